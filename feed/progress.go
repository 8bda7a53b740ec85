package feed

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dustin/go-humanize/english"
	"github.com/schollz/progressbar/v3"
)

// progress shows how far a load is: on a terminal a bar with the percentage of the file's bytes
// read, the ETA and the rate in customers/s; elsewhere (a log, a pipe) a plain line every few
// seconds. Without a writer it shows nothing.
type progress struct {
	name  string
	size  int64 // the file's size, or -1 when unknown (standard input)
	start time.Time
	bar   *progressbar.ProgressBar // on a terminal
	plain io.Writer                // otherwise
	last  time.Time
}

// plainEvery is how often the plain progress line is written.
const plainEvery = 5 * time.Second

func newProgress(w io.Writer, name string, size int64) *progress {
	if w == nil {
		return nil
	}
	p := &progress{name: name, size: size, start: time.Now(), last: time.Now()}
	if f, ok := w.(*os.File); ok && isTerminal(f) {
		p.bar = progressbar.NewOptions64(size,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(name),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
		return p
	}
	p.plain = w
	return p
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) rate(t *Totals) float64 {
	return float64(t.Read) / max(time.Since(p.start).Seconds(), 1e-3)
}

// update shows the totals after a batch, with read bytes of the file read so far.
func (p *progress) update(t *Totals, read int64) {
	if p == nil {
		return
	}
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("%s: %s, %.0f/s, %d rejected", p.name, english.Plural(t.Read, "customer", ""), p.rate(t), t.RejectedBatches))
		_ = p.bar.Set64(read)
		return
	}
	if time.Since(p.last) < plainEvery {
		return
	}
	p.last = time.Now()
	fmt.Fprintln(p.plain, p.line(t, read))
}

// line is the plain progress line: name, share of the file, customers, rate and ETA.
func (p *progress) line(t *Totals, read int64) string {
	s := fmt.Sprintf("%s: %s, %s (%d rejected), %.0f customers/s", p.name, english.Plural(t.Read, "customer", ""), english.Plural(t.Batches, "batch", ""),
		t.RejectedBatches, p.rate(t))
	if p.size > 0 {
		share := float64(read) / float64(p.size)
		s += fmt.Sprintf(", %.0f%% of %d bytes", 100*min(share, 1), p.size)
		if share > 0 && share < 1 {
			eta := time.Duration(float64(time.Since(p.start)) * (1 - share) / share)
			s += ", ETA " + eta.Round(time.Second).String()
		}
	}
	return s
}

func (p *progress) finish(t *Totals, counted *countingReader) {
	if p == nil {
		return
	}
	if p.bar != nil {
		p.update(t, counted.n)
		_ = p.bar.Finish()
		return
	}
	fmt.Fprintln(p.plain, p.line(t, counted.n))
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// size is the size of a regular file, or -1.
func size(r io.Reader) int64 {
	f, ok := r.(*os.File)
	if !ok {
		return -1
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	return st.Size()
}

// atPosition adds where in the file a JSON syntax error is: line, column and byte offset when
// the file can be read again (the broken value is read once more, alone, to find the exact
// byte), else the byte offset at which the broken customer starts.
func atPosition(r io.Reader, rd *Reader, err error) error {
	var syn *json.SyntaxError
	if !errors.As(err, &syn) {
		return err
	}
	var start int64
	if rd != nil {
		start = rd.start
	}
	f, ok := r.(*os.File)
	if !ok || size(r) < 0 {
		return fmt.Errorf("%w (in the value starting at byte %d)", err, start)
	}
	pos := start
	br := bufio.NewReader(io.NewSectionReader(f, start, size(r)-start))
	for comma := false; ; pos++ { // the whitespace and comma before the value
		b, rerr := br.ReadByte()
		if rerr != nil {
			break
		}
		if b == ',' && !comma {
			comma = true
			continue
		}
		if b != ' ' && b != '\t' && b != '\r' && b != '\n' {
			_ = br.UnreadByte()
			break
		}
	}
	var raw json.RawMessage
	if errors.As(json.NewDecoder(br).Decode(&raw), &syn) {
		pos += syn.Offset - 1 // the offending byte
	}
	line, col := 1, 1
	lines := bufio.NewReader(io.NewSectionReader(f, 0, pos))
	for {
		b, rerr := lines.ReadByte()
		if rerr != nil {
			break
		}
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Errorf("%w (line %d, column %d, byte %d)", err, line, col, pos)
}
