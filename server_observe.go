package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/portfolio-graph/portfolio-graph/db"
	"github.com/portfolio-graph/portfolio-graph/graph"
	"github.com/portfolio-graph/portfolio-graph/middleware"
	"github.com/portfolio-graph/portfolio-graph/observe"
)

// observability is the server's metrics and tracing, both optional: metrics exist only with
// an admin listener to scrape them, traces only when OTLP is configured. A nil one (tests, the
// ingest command) observes nothing beyond the access log.
type observability struct {
	metrics *observe.Metrics // nil without -admin-listen
	tracing *observe.Tracing
}

// newObservability sets up what cfg and the environment ask for.
func newObservability(ctx context.Context, cfg *config) (*observability, error) {
	o := &observability{}
	if cfg.adminListen != "" {
		o.metrics = observe.NewMetrics()
	}
	var err error
	if o.tracing, err = observe.NewTracing(ctx, buildVersion()); err != nil {
		return nil, err
	}
	return o, nil
}

// buildVersion is the main module's version as the build recorded it.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}

func (o *observability) tracer() trace.TracerProvider {
	if o == nil {
		return nil
	}
	return o.tracing.Provider()
}

// storeConfig adds the store's metrics and statement spans to sc.
func (o *observability) storeConfig(sc db.Config) db.Config {
	if o == nil {
		return sc
	}
	sc.Observer.Tracer = o.tracer()
	if m := o.metrics; m != nil {
		count := sc.Observer.Statement
		sc.Observer.Statement = func(ctx context.Context, elapsed time.Duration, failed bool) {
			if count != nil {
				count(ctx, elapsed, failed)
			}
			m.Statement(elapsed)
		}
		sc.Observer.Ingest = o.reportIngest
	}
	return sc
}

// reportIngest counts what an ingest wrote and refused.
func (o *observability) reportIngest(_ context.Context, r db.IngestReport) {
	if r.DryRun {
		return
	}
	m, s := o.metrics, r.Summary
	m.Rows("customer", s.Customers.Created, s.Customers.Updated, s.Customers.Unchanged, s.Customers.Deleted)
	m.Rows("account", s.Accounts.Created, s.Accounts.Updated, s.Accounts.Unchanged, s.Accounts.Deleted)
	m.Rows("card", s.Cards.Created, s.Cards.Updated, s.Cards.Unchanged, s.Cards.Deleted)
	m.CustomersRefused("rejected", r.Rejected)
	m.CustomersRefused("skipped", s.SkippedCustomers)
}

// countStatement counts a statement for the access log line of its request.
func countStatement(ctx context.Context, _ time.Duration, _ bool) { graph.CountStatement(ctx) }

// watchStore exports the store's connection pool and retries.
func (o *observability) watchStore(store *db.Store) {
	if o == nil || o.metrics == nil {
		return
	}
	o.metrics.WatchPool(store.Pool(), store.Dialect())
	o.metrics.WatchRetries(store.Retries)
	o.metrics.WatchConnectAttempts(store.ConnectAttempts)
}

func (o *observability) graphOptions(opt graph.Options) graph.Options {
	opt.Tracer = o.tracer()
	if o != nil && o.metrics != nil {
		opt.ReportIngest = o.reportIngest // batches refused before they reach the store
	}
	return opt
}

// countRequests wraps the GraphQL endpoint in the request metrics.
func (o *observability) countRequests(next http.Handler) http.Handler {
	if o == nil {
		return next
	}
	return middleware.Metrics(o.metrics, next)
}

// trace wraps the whole handler in request spans (or, off, in reading the caller's trace id).
func (o *observability) trace(next http.Handler) http.Handler {
	return middleware.Trace(o.tracer(), next)
}

// checkAdminAddr refuses an admin listener on a non-loopback address unless allowed: metrics
// and profiles are served without authentication.
func checkAdminAddr(cfg *config) error {
	if cfg.adminListen == "" || isLoopback(cfg.adminListen) || cfg.adminInsecure {
		return nil
	}
	return fmt.Errorf("refusing to serve metrics and pprof without authentication on %s, which is not a loopback address: listen on loopback, or pass -admin-insecure (behind a network policy that only lets the scraper in)", cfg.adminListen)
}

// serveAdmin starts the admin listener (metrics, pprof) when configured; stop closes it.
func (o *observability) serveAdmin(cfg *config, log *slog.Logger, listen func(network, addr string) (net.Listener, error)) (stop func(context.Context), err error) {
	if cfg.adminListen == "" || o == nil || o.metrics == nil {
		return func(context.Context) {}, nil
	}
	ln, err := listen("tcp", cfg.adminListen)
	if err != nil {
		return nil, fmt.Errorf("admin listener: %w", err)
	}
	srv := &http.Server{
		Handler:           observe.AdminHandler(o.metrics),
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      5 * time.Minute, // a CPU profile or execution trace takes ?seconds=N
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("admin", "metrics", "http://"+displayAddr(ln.Addr().String())+"/metrics", "pprof", "/debug/pprof/")
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin listener stopped", "err", err)
		}
	}()
	return func(ctx context.Context) { _ = srv.Shutdown(ctx) }, nil
}

// shutdown flushes the spans still buffered, within a time limit.
func (o *observability) shutdown(log *slog.Logger) {
	if o == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := o.tracing.Shutdown(ctx); err != nil {
		log.Warn("traces: could not export the last spans", "err", err)
	}
}
