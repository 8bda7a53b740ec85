// Command faultproxy is a TCP proxy between a server and its database whose link can be cut and
// restored, for bench/fault-probes.sh. It forwards every connection to -target while the link is
// up. SIGUSR1 cuts it: open connections are reset, and each new one is accepted and reset at
// once, so every connection attempt is still counted. SIGUSR2 restores it. SIGTERM or SIGINT
// stops the proxy.
//
//	faultproxy -listen 127.0.0.1:0 -target 127.0.0.1:5432 -addr-file FILE [-cut]
//
// It writes the address it listens on to -addr-file, then on standard output one line a second,
//
//	unix=1700000000 state=up|cut accepted=N open=N
//
// (accepted: connections accepted in that second, reset ones included; open: forwarded ones
// open at its end) and a line "unix=… event=cut|restore" on each change.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

type proxy struct {
	target string

	mu       sync.Mutex
	cut      bool
	accepted int
	open     map[net.Conn]struct{}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on")
	target := flag.String("target", "127.0.0.1:5432", "loopback address to forward to")
	addrFile := flag.String("addr-file", "", "file to write the listening address to")
	startCut := flag.Bool("cut", false, "start with the link cut")
	flag.Parse()
	for _, a := range []string{*listen, *target} {
		if err := loopback(a); err != nil {
			fmt.Fprintln(os.Stderr, "faultproxy:", err)
			os.Exit(2)
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faultproxy:", err)
		os.Exit(1)
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "faultproxy:", err)
			os.Exit(1)
		}
	}
	p := &proxy{target: *target, cut: *startCut, open: map[net.Conn]struct{}{}}
	go p.serve(ln)

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM, syscall.SIGINT)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case t := <-tick.C:
			p.mu.Lock()
			state := "up"
			if p.cut {
				state = "cut"
			}
			fmt.Printf("unix=%d state=%s accepted=%d open=%d\n", t.Unix(), state, p.accepted, len(p.open)/2)
			p.accepted = 0
			p.mu.Unlock()
		case s := <-sigs:
			switch s {
			case syscall.SIGUSR1:
				p.setCut(true)
				fmt.Printf("unix=%.3f event=cut\n", float64(time.Now().UnixMilli())/1000)
			case syscall.SIGUSR2:
				p.setCut(false)
				fmt.Printf("unix=%.3f event=restore\n", float64(time.Now().UnixMilli())/1000)
			default:
				_ = ln.Close()
				p.setCut(true)
				return
			}
		}
	}
}

// loopback refuses any address whose host is not a loopback IP.
func loopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s: not a loopback IP address", addr)
	}
	return nil
}

func (p *proxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		p.mu.Lock()
		p.accepted++
		cut := p.cut
		p.mu.Unlock()
		if cut {
			reset(c)
			continue
		}
		go p.forward(c)
	}
}

func (p *proxy) forward(c net.Conn) {
	u, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		reset(c)
		return
	}
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		reset(c)
		reset(u)
		return
	}
	p.open[c], p.open[u] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(u, c)
	go pipe(c, u)
	<-done
	p.mu.Lock()
	delete(p.open, c)
	delete(p.open, u)
	p.mu.Unlock()
	_ = c.Close()
	_ = u.Close()
	<-done
}

// setCut changes the link's state; cutting resets the connections open through it.
func (p *proxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.open {
			reset(c)
			delete(p.open, c)
		}
	}
}

// reset closes c with a TCP reset rather than an orderly end, as a vanished peer does.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
