// Command portfolio-graph serves customer portfolios (customers, their accounts and their
// cards) over GraphQL, on PostgreSQL or an embedded SQLite file.
//
//	go run .                      serve (embedded store, playground at the printed address)
//	go run . -demo                serve, filling an empty store with a synthetic portfolio
//	go run . ingest FILE...       load publisher files (JSON document or NDJSON) and exit
//	go run . migrate [status|up]  show the schema's migrations, or apply the pending ones
//	go run . -h                   list every flag and environment variable
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/portfolio-graph/portfolio-graph/auth"
	"github.com/portfolio-graph/portfolio-graph/console"
	"github.com/portfolio-graph/portfolio-graph/db"
	"github.com/portfolio-graph/portfolio-graph/feed"
	"github.com/portfolio-graph/portfolio-graph/graph"
	"github.com/portfolio-graph/portfolio-graph/inflight"
	"github.com/portfolio-graph/portfolio-graph/middleware"
	"github.com/portfolio-graph/portfolio-graph/models"
	"github.com/portfolio-graph/portfolio-graph/observe"
	"github.com/portfolio-graph/portfolio-graph/playground"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tuneGC()
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once, drain or not
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Garbage collector defaults, unless GOGC or GOMEMLIMIT say otherwise. The live heap of the
// server is small (tens of MB) while a request allocates a hundred times its response, so
// Go's default (collect when the heap has doubled) spent about a third of the CPU collecting
// in the profile of the nested page (BENCHMARKS.md); collecting at five times the live heap took
// that page from 7.9-10.2 to 6.2 ms in the in-process benchmark. The soft memory limit keeps the
// process near 100 MB of RSS (stacks and buffers come on top of the heap) by collecting earlier
// when the heap grows towards it.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 84 << 20
)

func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

// config is everything the server reads from flags and the environment.
type config struct {
	databaseURL   string
	listenAddr    string
	logLevel      string
	logFormat     string
	adminListen   string
	adminInsecure bool
	playground    bool
	// generatedReads and generatedIngest send every query through gqlgen's generated executor
	// and every ingest input through gqlgen's unmarshalling: tests compare the paths with them.
	// They are no flags: the answers are the same, so an operator has nothing to choose.
	generatedReads   bool
	generatedIngest  bool
	insecure         bool
	demo             bool
	databaseWait     time.Duration
	dbMaxConns       int
	statementTimeout time.Duration
	slowSQL          time.Duration
	requestTimeout   time.Duration
	shutdownDrain    time.Duration
	maxBodyBytes     int64
	bodyBytesFlight  int64 // bytes of request bodies held at once, all requests together
	decodesInFlight  int   // ingest requests and other large bodies decoded at once
	defaultPageSize  int
	maxPageSize      int
	maxIngestBatch   int
	maxTokens        int
	maxDepth         int
	maxComplexity    int
	maxFilterValues  int
	ingestBatch      int
	skipInvalid      bool
	auth             auth.Config
	corsOrigins      []string
	trustedDocsFile  string
	trustedDocs      *graph.TrustedDocuments // read from trustedDocsFile at start-up
	banner           io.Writer               // where the playground's address is printed (default stderr)
}

// parseConfig reads flags over environment variables over defaults. Every flag mirrors one
// variable; `-h` lists them all with their defaults.
func parseConfig(name string, args []string, stderr io.Writer) (*config, *flag.FlagSet, error) {
	c := &config{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s [flags]\n", name)
		if name == "portfolio-graph" {
			fmt.Fprint(fs.Output(), commandsUsage)
		}
		fs.PrintDefaults()
	}
	env := func(key, def string) string {
		if v, ok := os.LookupEnv(key); ok {
			return v
		}
		return def
	}
	defaultListen := "127.0.0.1:8080"
	if p := os.Getenv("PORT"); p != "" {
		defaultListen = ":" + p
	}
	var errs []error
	envInt := func(key string, def int) int {
		n, err := strconv.Atoi(env(key, strconv.Itoa(def)))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: not a whole number", key))
		}
		return n
	}
	envDur := func(key string, def time.Duration) time.Duration {
		d, err := time.ParseDuration(env(key, def.String()))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: not a duration like 30s", key))
		}
		return d
	}
	envBool := func(key string, def bool) bool {
		b, err := strconv.ParseBool(env(key, strconv.FormatBool(def)))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: not true or false", key))
		}
		return b
	}
	fs.StringVar(&c.databaseURL, "database-url", env("DATABASE_URL", ""), "the database: a postgres:// URL, or an SQLite file as file:PATH or a path ending in .db, .sqlite or .sqlite3 (env DATABASE_URL); empty means the embedded SQLite file "+db.DefaultSQLitePath)
	fs.StringVar(&c.listenAddr, "listen", env("LISTEN_ADDR", defaultListen), "address to serve on (env LISTEN_ADDR; PORT alone means :$PORT, every interface, which open mode refuses: use 127.0.0.1:PORT on your own machine)")
	fs.StringVar(&c.auth.Secret, "auth-jwt-secret", env("AUTH_JWT_SECRET", ""), "shared secret (32+ characters) verifying HS256 bearer tokens (env AUTH_JWT_SECRET); with no key the server runs open")
	fs.StringVar(&c.auth.PublicKeyFile, "auth-jwt-public-key-file", env("AUTH_JWT_PUBLIC_KEY_FILE", ""), "PEM public key verifying RS256 or ES256 bearer tokens (env AUTH_JWT_PUBLIC_KEY_FILE)")
	fs.StringVar(&c.auth.Issuer, "auth-jwt-issuer", env("AUTH_JWT_ISSUER", ""), "required iss claim, if set (env AUTH_JWT_ISSUER)")
	fs.StringVar(&c.auth.Audience, "auth-jwt-audience", env("AUTH_JWT_AUDIENCE", ""), "required aud claim, if set (env AUTH_JWT_AUDIENCE)")
	fs.StringVar(&c.logLevel, "log-level", env("LOG_LEVEL", "info"), "debug, info, warn or error (env LOG_LEVEL)")
	fs.StringVar(&c.logFormat, "log-format", env("LOG_FORMAT", "text"), "text (key=value) or json, one object a line (env LOG_FORMAT)")
	fs.StringVar(&c.adminListen, "admin-listen", env("ADMIN_LISTEN_ADDR", ""), "address of the admin listener serving /metrics and /debug/pprof/, e.g. 127.0.0.1:9090 (env ADMIN_LISTEN_ADDR); empty: none")
	fs.BoolVar(&c.adminInsecure, "admin-insecure", envBool("ADMIN_INSECURE", false), "allow the admin listener, which has no authentication, on a non-loopback address (env ADMIN_INSECURE)")
	fs.BoolVar(&c.playground, "playground", envBool("PLAYGROUND", true), "serve the GraphiQL playground at / when listening on loopback (env PLAYGROUND)")
	fs.BoolVar(&c.insecure, "insecure", envBool("INSECURE", false), "allow serving without authentication on a non-loopback address (env INSECURE)")
	fs.BoolVar(&c.demo, "demo", envBool("DEMO", false), "fill an empty store with a synthetic portfolio of 1,000 customers (env DEMO)")
	fs.DurationVar(&c.databaseWait, "database-wait", envDur("DATABASE_WAIT", 0), "how long the server waits for its database at start before exiting; meanwhile /readyz and /query answer 503 (env DATABASE_WAIT; 0: wait as long as it takes)")
	fs.IntVar(&c.dbMaxConns, "db-max-conns", envInt("DB_MAX_CONNS", 16), "database connection pool size (env DB_MAX_CONNS; SQLite uses at most 4)")
	fs.DurationVar(&c.statementTimeout, "statement-timeout", envDur("DB_STATEMENT_TIMEOUT", 30*time.Second), "PostgreSQL statement_timeout (env DB_STATEMENT_TIMEOUT)")
	fs.DurationVar(&c.slowSQL, "slow-sql", envDur("DB_SLOW_SQL", 200*time.Millisecond), "log statements slower than this at warn, by their text with placeholders (env DB_SLOW_SQL; 0 or less: never)")
	fs.DurationVar(&c.requestTimeout, "request-timeout", envDur("REQUEST_TIMEOUT", 30*time.Second), "time limit of one request, SQL included (env REQUEST_TIMEOUT)")
	fs.DurationVar(&c.shutdownDrain, "shutdown-drain", envDur("SHUTDOWN_DRAIN", 5*time.Second), "on SIGTERM, how long to keep serving with /readyz at 503 before closing the listener (env SHUTDOWN_DRAIN)")
	fs.Int64Var(&c.maxBodyBytes, "max-body-bytes", int64(envInt("MAX_BODY_BYTES", 16<<20)), "largest request body (env MAX_BODY_BYTES)")
	fs.Int64Var(&c.bodyBytesFlight, "max-body-bytes-in-flight", int64(envInt("MAX_BODY_BYTES_IN_FLIGHT", 64<<20)), "most bytes of request bodies over 64 KiB held at once, all requests together; at least -max-body-bytes (env MAX_BODY_BYTES_IN_FLIGHT)")
	fs.IntVar(&c.decodesInFlight, "max-decodes-in-flight", envInt("MAX_DECODES_IN_FLIGHT", runtime.GOMAXPROCS(0)), "most ingestCustomers requests and other bodies over 64 KiB decoded at once; the default is the CPUs the process may use (env MAX_DECODES_IN_FLIGHT)")
	fs.IntVar(&c.defaultPageSize, "default-page-size", envInt("DEFAULT_PAGE_SIZE", 50), "connection page size when first/last are not given (env DEFAULT_PAGE_SIZE)")
	fs.IntVar(&c.maxPageSize, "max-page-size", envInt("MAX_PAGE_SIZE", 500), "largest first/last (env MAX_PAGE_SIZE)")
	fs.IntVar(&c.maxTokens, "max-query-tokens", envInt("MAX_QUERY_TOKENS", 10000), "most lexical tokens in a query document (env MAX_QUERY_TOKENS)")
	fs.IntVar(&c.maxDepth, "max-query-depth", envInt("MAX_QUERY_DEPTH", 12), "deepest selection nesting (env MAX_QUERY_DEPTH)")
	fs.IntVar(&c.maxComplexity, "max-complexity", envInt("MAX_COMPLEXITY", 20000), "highest estimated query cost; a connection costs its page size times its selection (env MAX_COMPLEXITY)")
	fs.IntVar(&c.maxFilterValues, "max-filter-values", envInt("MAX_FILTER_VALUES", 1000), "most values in one list of an argument, such as a filter field (env MAX_FILTER_VALUES); nodes(ids) takes at most max-page-size")
	fs.IntVar(&c.maxIngestBatch, "max-ingest-batch", envInt("MAX_INGEST_BATCH", 1000), "most customers in one ingestCustomers call (env MAX_INGEST_BATCH)")
	fs.IntVar(&c.ingestBatch, "batch", envInt("INGEST_BATCH", 500), "customers per batch of the ingest command (env INGEST_BATCH)")
	fs.BoolVar(&c.skipInvalid, "skip-invalid", envBool("INGEST_SKIP_INVALID", false), "ingest command: load the valid customers of each batch and list the rest, instead of rejecting the batch (env INGEST_SKIP_INVALID)")
	fs.Func("cors-allowed-origins", "comma-separated origins allowed to call /query from a browser, such as https://app.example.com (env CORS_ALLOWED_ORIGINS); empty: no CORS headers", func(v string) (err error) {
		c.corsOrigins, err = middleware.ParseOrigins(v)
		return err
	})
	if v := env("CORS_ALLOWED_ORIGINS", ""); v != "" {
		var err error
		if c.corsOrigins, err = middleware.ParseOrigins(v); err != nil {
			errs = append(errs, err)
		}
	}
	fs.StringVar(&c.trustedDocsFile, "trusted-documents", env("TRUSTED_DOCUMENTS", ""), "JSON manifest of trusted documents ({\"<sha256>\": \"<document>\"}, with or without the \"sha256:\" prefix GraphQL Codegen writes, or an Apollo persisted query manifest); when set, non-admin callers may run only these (env TRUSTED_DOCUMENTS)")
	hideSecretDefaults(fs)
	if only, ok := commandFlags[name]; ok {
		fs = onlyFlags(fs, only, commandUsage[name])
	} else if name == serveCommand {
		fs = withoutFlags(fs, ingestOnlyFlags)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fs, err
	}
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	if err := c.check(); err != nil {
		return nil, fs, err
	}
	return c, fs, nil
}

// The commands beside serving take only the flags that concern them.
var (
	storeFlags   = []string{"database-url", "db-max-conns", "statement-timeout", "slow-sql", "log-level", "log-format"}
	commandFlags = map[string][]string{
		ingestCommand:  append([]string{"batch", "skip-invalid", "max-ingest-batch"}, storeFlags...),
		migrateCommand: storeFlags,
	}
	commandUsage = map[string]string{
		ingestCommand: `Usage: portfolio-graph ingest [flags] FILE...
Loads publisher files into the store and exits: each FILE is a {"customers":[...]} document or
NDJSON (one customer a line), - for standard input. Every problem is listed with its path in
the file, and the exit status is non-zero when anything was not loaded. Flags:
`,
		migrateCommand: `Usage: portfolio-graph migrate [status|up] [flags]
status (the default) shows the schema's version and this build's migrations, changing nothing;
up applies the pending ones. Flags:
`,
	}
)

const (
	serveCommand   = "portfolio-graph"
	ingestCommand  = "portfolio-graph ingest"
	migrateCommand = "portfolio-graph migrate"
)

// ingestOnlyFlags concern the ingest command alone: serving neither lists nor takes them.
var ingestOnlyFlags = []string{"batch", "skip-invalid"}

// withoutFlags is fs without the flags named in names, keeping its usage.
func withoutFlags(fs *flag.FlagSet, names []string) *flag.FlagSet {
	var keep []string
	fs.VisitAll(func(f *flag.Flag) {
		if !slices.Contains(names, f.Name) {
			keep = append(keep, f.Name)
		}
	})
	sub := onlyFlags(fs, keep, "")
	sub.Usage = fs.Usage
	return sub
}

// onlyFlags is a flag set with the flags of fs named in names, bound to the same values.
func onlyFlags(fs *flag.FlagSet, names []string, usage string) *flag.FlagSet {
	sub := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	sub.SetOutput(fs.Output())
	for _, n := range names {
		if f := fs.Lookup(n); f != nil {
			sub.Var(f.Value, f.Name, f.Usage)
			sub.Lookup(n).DefValue = f.DefValue
		}
	}
	sub.Usage = func() {
		fmt.Fprint(sub.Output(), usage)
		sub.PrintDefaults()
	}
	return sub
}

// check refuses settings that contradict each other.
func (c *config) check() error {
	if c.bodyBytesFlight < c.maxBodyBytes {
		return fmt.Errorf("-max-body-bytes-in-flight (MAX_BODY_BYTES_IN_FLIGHT) is %d, less than -max-body-bytes (MAX_BODY_BYTES), %d: a body of the largest size allowed could never be read", c.bodyBytesFlight, c.maxBodyBytes)
	}
	if c.decodesInFlight < 1 {
		return fmt.Errorf("-max-decodes-in-flight (MAX_DECODES_IN_FLIGHT) is %d: at least 1 request must be decoded at a time", c.decodesInFlight)
	}
	return nil
}

func (c *config) storeConfig(log *slog.Logger) db.Config {
	return db.Config{
		URL:              c.databaseURL,
		MaxOpenConns:     c.dbMaxConns,
		StatementTimeout: c.statementTimeout,
		SlowStatement:    slowThreshold(c.slowSQL),
		DefaultPage:      c.defaultPageSize,
		MaxPage:          c.maxPageSize,
		MaxBatch:         c.maxIngestBatch,
		Logger:           log,
		Observer:         db.Observer{Statement: countStatement},
	}
}

// hideSecretDefaults keeps secrets taken from the environment out of -h: the JWT secret is
// shown as set or not, and a database URL without its password.
func hideSecretDefaults(fs *flag.FlagSet) {
	if f := fs.Lookup("auth-jwt-secret"); f != nil && f.DefValue != "" {
		f.DefValue = "xxxxx"
	}
	if f := fs.Lookup("database-url"); f != nil {
		f.DefValue = redactURL(f.DefValue)
	}
}

// redactURL is a database URL with its password, in the user part or as a parameter, masked.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		if strings.Contains(raw, "@") || strings.Contains(raw, "password") {
			return "xxxxx" // not parsable: it may hold a password anywhere
		}
		return raw // a file path
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// slowThreshold maps the -slow-sql setting onto db.Config, where 0 means the default.
func slowThreshold(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}

func (c *config) graphOptions(store *db.Store, log *slog.Logger) graph.Options {
	return graph.Options{Store: store, Logger: log, Trusted: c.trustedDocs, GeneratedOnly: c.generatedReads,
		GeneratedIngest: c.generatedIngest, MaxIngestBatch: c.maxIngestBatch, Limits: graph.Limits{
			MaxTokens:       c.maxTokens,
			MaxDepth:        c.maxDepth,
			MaxComplexity:   c.maxComplexity,
			MaxFilterValues: c.maxFilterValues,
		}}
}

func newLogger(level, format string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("LOG_LEVEL: %q is not debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	var h slog.Handler
	switch format {
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("LOG_FORMAT: %q is not text or json", format)
	}
	if lw, ok := w.(*observe.LogWriter); ok {
		h = observe.FlushingHandler(h, lw) // warnings and errors are written at once
	}
	return slog.New(h), nil
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "ingest" {
		return runIngest(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "token" {
		return runToken(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "migrate" {
		return runMigrate(ctx, args[1:], stdout, stderr)
	}
	cfg, fs, err := parseConfig(serveCommand, args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unknown command %q: the commands are ingest, token and migrate; without one it serves (-h lists the flags)\n", fs.Arg(0))
		return 2
	}
	// The server's log goes out in batches (observe.LogWriter): a write per access-log line was
	// a tenth of the CPU of a small request.
	lw := observe.NewLogWriter(stderr, 100*time.Millisecond)
	defer lw.Close()
	log, err := newLogger(cfg.logLevel, cfg.logFormat, lw)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	cfg.banner = lw // after the log lines before it, not ahead of them
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("server stopped on an error", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// newVerifier returns the token verifier of cfg, or nil in open mode (no key configured).
func newVerifier(cfg *config) (*auth.Verifier, error) {
	if !cfg.auth.Enabled() {
		return nil, nil
	}
	return auth.NewVerifier(cfg.auth)
}

func serve(ctx context.Context, cfg *config, log *slog.Logger) error {
	return serveWith(ctx, cfg, log, net.Listen)
}

// serveWith is serve listening with listen, which tests wrap to see the connections accepted.
func serveWith(ctx context.Context, cfg *config, log *slog.Logger, listen func(network, addr string) (net.Listener, error)) error {
	loopback := isLoopback(cfg.listenAddr)
	if _, _, err := db.ParseDatabaseURL(cfg.databaseURL); err != nil {
		return err
	}
	verifier, err := newVerifier(cfg)
	if err != nil {
		return err
	}
	if verifier == nil {
		if !loopback && !cfg.insecure {
			hint := ""
			if _, port, err := net.SplitHostPort(cfg.listenAddr); err == nil {
				hint = " To serve this machine alone, listen on loopback: -listen 127.0.0.1:" + port + "."
			}
			return fmt.Errorf("refusing to serve without authentication on %s, which is not a loopback address: configure AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY_FILE, or pass -insecure to serve every network openly.%s", cfg.listenAddr, hint)
		}
		log.Warn("open mode: no authentication configured, every request is served as an admin of every organization")
	} else {
		log.Info("authentication: bearer tokens required on /query")
	}
	if cfg.trustedDocsFile != "" {
		if cfg.trustedDocs, err = graph.LoadTrustedDocuments(cfg.trustedDocsFile); err != nil {
			return err
		}
		log.Info("trusted documents: non-admin callers may run only the manifest's operations", "file", cfg.trustedDocsFile, "documents", cfg.trustedDocs.Len())
	}
	if err := checkAdminAddr(cfg); err != nil {
		return err
	}
	obs, err := newObservability(ctx, cfg)
	if err != nil {
		return err
	}
	defer obs.shutdown(log) // after the last request: its spans are flushed

	// Listen first: a port in use is reported at once, before anything touches the database.
	ln, err := listen("tcp", cfg.listenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (choose another address with -listen or LISTEN_ADDR, e.g. -listen 127.0.0.1:8081)", cfg.listenAddr, err)
	}
	// The store connects and migrates in the background, as soon as the database answers:
	// meanwhile /healthz is 200, /readyz 503 with the reason, and /query 503.
	store, err := db.Start(ctx, obs.storeConfig(cfg.storeConfig(log)))
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer store.Close()
	obs.watchStore(store)
	ready := &readiness{}
	ready.set(store.Started)
	stopAdmin, err := obs.serveAdmin(cfg, log, listen)
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer stopAdmin(context.Background()) // metrics stay scrapable through the drain
	drain := &middleware.Drain{}
	srv := &http.Server{
		Handler:           newServingHandler(store, cfg, verifier, log, cfg.playground && loopback, drain, obs, ready.err),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       cfg.requestTimeout + 30*time.Second,
		WriteTimeout:      cfg.requestTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnState:         drain.ConnState,
	}
	url := "http://" + displayAddr(ln.Addr().String())
	log.Info("serving", "store", store.Dialect(), "graphql", url+"/query", "console", url+"/console/")
	if cfg.playground && loopback {
		log.Info("playground", "url", url+"/")
		banner := cfg.banner
		if banner == nil {
			banner = os.Stderr
		}
		fmt.Fprintf(banner, "\n  GraphQL playground: %s/\n  Console:            %s/console/\n\n", url, url)
	}

	errc := make(chan error, 2)
	go func() {
		if err := waitForStore(ctx, store, cfg, log, ready); err != nil {
			errc <- err
		}
	}()
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if ready.err() != nil {
		// Never ready: no load balancer sent anything here, so there is nothing to drain.
		log.Info("stopping before the server was ready")
		_ = ln.Close()
		<-errc
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	}
	// Keep serving while load balancers notice /readyz and clients move off their kept-alive
	// connections: closing the listener and idle connections at once would reset requests
	// already on their way.
	drain.Start()
	log.Info("draining: /readyz answers 503 and answers close their connection", "for", cfg.shutdownDrain)
	select {
	case err := <-errc:
		return err
	case <-time.After(cfg.shutdownDrain):
	}
	// Stop accepting, answer every connection already accepted (each answer closes its
	// connection), then let Shutdown close what is left idle.
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.requestTimeout+5*time.Second)
	defer cancel()
	_ = ln.Close()
	<-errc // Serve returns once the listener is closed
	if err := drain.Wait(shutdownCtx); err != nil {
		log.Warn("shutting down: requests still running after the time limit", "err", err)
	}
	return srv.Shutdown(shutdownCtx)
}

// inflightWait is how long a request waits for its share of the request bodies in flight
// before it is answered 503 SERVICE_UNAVAILABLE, unread. Once its body is read, a request waits
// for its turn to decode as long as its time limit allows: waiting holds no more memory than
// its body already does, and refusing it then would throw away a body the server has read
// (32 ingests of 1,000 customers sent at once all succeed with the defaults; with a 2 s wait
// for decodes too, 12 were refused).
const inflightWait = 2 * time.Second

// bodiesInFlight is the limit of the bytes of request bodies held at once. Once the bodies of a
// burst that held half of it or more have all been answered, their memory goes back to the
// system: the runtime would keep it until its next collection, which an idle server may not run
// for minutes (RSS measured at 106 MiB 12 s after a burst of 30 bodies of 15 MB, 30 MiB before
// it; 34 MiB with this).
func bodiesInFlight(size int64) *inflight.Limit {
	l := inflight.New(size, inflightWait)
	l.OnDrain(func(peak int64) {
		if peak >= size/2 {
			debug.FreeOSMemory()
		}
	})
	return l
}

// newHTTPHandler is the handler of a server that never drains.
func newHTTPHandler(store *db.Store, cfg *config, verifier *auth.Verifier, log *slog.Logger, withPlayground bool) http.Handler {
	return newDrainingHandler(store, cfg, verifier, log, withPlayground, &middleware.Drain{}, nil)
}

// newDrainingHandler is the handler of a server whose store has started.
func newDrainingHandler(store *db.Store, cfg *config, verifier *auth.Verifier, log *slog.Logger, withPlayground bool, drain *middleware.Drain, obs *observability) http.Handler {
	return newServingHandler(store, cfg, verifier, log, withPlayground, drain, obs, store.Started)
}

// newServingHandler routes the endpoints and wraps them in the HTTP edge (middleware/). Until
// ready returns nil, /query answers 503 and /readyz says why.
func newServingHandler(store *db.Store, cfg *config, verifier *auth.Verifier, log *slog.Logger, withPlayground bool, drain *middleware.Drain, obs *observability, ready func() error) http.Handler {
	mux := http.NewServeMux()
	// Read from the bottom up: the order a request meets them.
	opt := obs.graphOptions(cfg.graphOptions(store, log))
	opt.DecodesInFlight = inflight.New(int64(cfg.decodesInFlight), cfg.requestTimeout)
	var query http.Handler = graph.NewHandler(opt)
	query = middleware.StrictJSON(query)
	// A body is read once its caller is authenticated: an unauthenticated one must not hold
	// the bytes of bodies in flight that other callers' bodies need.
	query = middleware.ReadBody(cfg.maxBodyBytes, bodiesInFlight(cfg.bodyBytesFlight), query)
	// Nothing is read while the store has not started.
	query = middleware.Available(ready, query)
	query = middleware.Authenticate(verifier, query)
	query = middleware.CheckTransport(cfg.maxTokens, query)
	query = obs.countRequests(query)
	query = middleware.CORS(cfg.corsOrigins, query)
	mux.Handle("/query", query)
	mux.Handle("GET /schema.graphql", middleware.Authenticate(verifier, middleware.AdminOnly(
		"the schema is shown to admins only, as introspection is", graph.SchemaHandler())))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if drain.Draining() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "draining\n")
			return
		}
		if err := ready(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "not ready: "+err.Error()+"\n")
			return
		}
		if err := store.Ready(ctx); err != nil {
			// The store's cause log has the detail, once per cause rather than per probe.
			reason := "database unavailable"
			var coded *models.Error
			if errors.As(err, &coded) {
				reason = coded.Message
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, reason+"\n")
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle(console.Prefix, console.Handler())
	if withPlayground {
		mux.Handle("/", playground.Handler("portfolio-graph", "/query"))
	}
	return obs.trace(middleware.Compress(middleware.Request(cfg.requestTimeout, log, drain.Handler(mux))))
}

// readiness is what /query and /readyz wait for while the server starts: the store connected
// and migrated, then the demo data loaded with -demo.
// Every request reads it: once ready, that is one atomic load.
type readiness struct {
	now atomic.Pointer[func() error] // nil when ready
}

// set makes f tell why the server is not ready; nil: it is.
func (r *readiness) set(f func() error) {
	if f == nil {
		r.now.Store(nil)
		return
	}
	r.now.Store(&f)
}

// err returns nil once the server is ready, else why not.
func (r *readiness) err() error {
	if f := r.now.Load(); f != nil {
		return (*f)()
	}
	return nil
}

// waitForStore waits until the store has started (bounded by -database-wait when set), fills
// it with -demo, then marks the server ready. It returns an error only when serving must stop:
// a start that failed for good, or a database that did not answer within -database-wait.
func waitForStore(ctx context.Context, store *db.Store, cfg *config, log *slog.Logger, ready *readiness) error {
	waitCtx := ctx
	if cfg.databaseWait > 0 {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithTimeout(ctx, cfg.databaseWait)
		defer cancel()
	}
	if err := store.WaitStarted(waitCtx); err != nil {
		switch {
		case ctx.Err() != nil:
			return nil // shutting down
		case waitCtx.Err() != nil:
			return fmt.Errorf("the database did not answer within -database-wait %s: %w", cfg.databaseWait, store.Started())
		}
		return err
	}
	if cfg.demo {
		ready.set(func() error { return errors.New("loading the demo portfolio") })
		if err := fillDemo(ctx, store, cfg, log); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	ready.set(nil)
	log.Info("ready", "store", store.Dialect())
	return nil
}

// isLoopback reports whether addr listens on loopback only ("127.0.0.1:8080", "localhost:0",
// "[::1]:8080"); ":8080" listens everywhere.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// displayAddr turns a listener's address into one a browser can open.
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// ingestMutation is what the ingest command and -demo send for each batch.
const ingestMutation = `mutation Ingest($customers: [CustomerInput!]!, $options: IngestOptions) {
  ingestCustomers(customers: $customers, options: $options) {
    summary {
      customers { created updated unchanged }
      accounts { created updated unchanged }
      cards { created updated unchanged deleted }
      skippedCustomers
      dryRun
    }
    userErrors { path code message }
  }
}`

// ingester ingests each batch as an operator with access to every organization: straight
// into the store when the batch decodes as the mutation would take it (ingest_direct.go),
// else through the mutation.
func ingester(store *db.Store, cfg *config, log *slog.Logger) feed.IngestFunc {
	return directIngester(store, log, graphIngester(store, cfg, log))
}

// graphIngester runs the ingestCustomers mutation in-process for each batch, as an operator
// with access to every organization.
func graphIngester(store *db.Store, cfg *config, log *slog.Logger) feed.IngestFunc {
	exec := graph.NewExecutor(cfg.graphOptions(store, log))
	return func(ctx context.Context, customers []json.RawMessage, opt feed.BatchOptions) (*feed.BatchResult, error) {
		list := make([]any, 0, len(customers))
		for _, raw := range customers {
			d := json.NewDecoder(bytes.NewReader(graph.MarkInvalidText(raw)))
			d.UseNumber()
			var v any
			if err := d.Decode(&v); err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		ctx = graph.WithCaller(ctx, graph.OpenCaller())
		data, errs := exec.Run(ctx, ingestMutation, map[string]any{"customers": list, "options": map[string]any{"skipInvalid": opt.SkipInvalid, "dryRun": opt.DryRun}})
		if len(errs) > 0 {
			return requestProblems(errs)
		}
		var out struct {
			IngestCustomers struct {
				Summary    models.IngestSummary
				UserErrors []feed.Problem
			}
		}
		if err := json.Unmarshal(data, &out); err != nil {
			return nil, err
		}
		return &feed.BatchResult{Summary: out.IngestCustomers.Summary, Problems: out.IngestCustomers.UserErrors}, nil
	}
}

// requestProblems turns the errors of a refused request into the problems of a rejected
// batch: input the schema's types cannot accept (an unknown enum value, a date without an
// offset) fails the whole batch, at the path the error names. A database failure stops the
// load instead.
func requestProblems(errs gqlerror.List) (*feed.BatchResult, error) {
	res := &feed.BatchResult{Refused: true}
	for _, e := range errs {
		code, _ := e.Extensions["code"].(string)
		if code == string(models.ErrServiceUnavailable) || code == string(models.ErrInternal) {
			return nil, errors.New(e.Message)
		}
		// A value of the customers that did not coerce is located by its variable's name and
		// its path within the variable, which is the path into the file; anything else
		// concerns the batch.
		path, msg := "customers", e.Message
		if v, ok := e.Extensions["variable"].(string); ok {
			path = inputPath(v, e.Extensions["inputPath"])
			msg = strings.TrimPrefix(msg, "variable."+path+": ")
		}
		res.Problems = append(res.Problems, feed.Problem{Path: path, Code: code, Message: msg})
	}
	return res, nil
}

// inputPath is a variable's name and a path within its value (its keys and list indexes), as
// the JSON path gqlparser writes: customers[3].enrollmentStartDate.
func inputPath(variable string, steps any) string {
	path := ast.Path{ast.PathName(variable)}
	list, _ := steps.([]any)
	for _, step := range list {
		if el, ok := step.(ast.PathElement); ok {
			path = append(path, el)
		}
	}
	return path.String()
}

// runIngest is `go run . ingest FILE...`.
func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if os.Getenv("GOMEMLIMIT") == "" {
		// The server's soft memory limit would make a load of large batches collect nearly
		// all the time; the loader's memory is bounded by its batches in flight instead.
		debug.SetMemoryLimit(math.MaxInt64)
	}
	cfg, fs, err := parseConfig(ingestCommand, args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: portfolio-graph ingest [flags] FILE... (a {\"customers\":[...]} document or NDJSON; - for standard input)")
		return 2
	}
	log, err := newLogger(cfg.logLevel, cfg.logFormat, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if cfg.ingestBatch > cfg.maxIngestBatch {
		cfg.maxIngestBatch = cfg.ingestBatch
	}
	store, err := db.Open(ctx, cfg.storeConfig(log))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer store.Close()
	ingest := ingester(store, cfg, log)
	code := 0
	var written []string // the tables the load wrote to
	for _, name := range fs.Args() {
		var r io.Reader = os.Stdin
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintln(stderr, err)
				return 1
			}
			defer f.Close()
			r = f
		}
		start := time.Now()
		totals, err := feed.Load(ctx, r, ingest, loadOptions(feed.Options{BatchSize: cfg.ingestBatch, Progress: stderr, Name: name, SkipInvalid: cfg.skipInvalid}))
		fmt.Fprintf(stdout, "%s (%.1fs):\n", name, time.Since(start).Seconds())
		if totals != nil {
			written = db.AddWrittenTables(written, totals.Customers, totals.Accounts, totals.Cards)
			totals.WriteSummary(stdout)
			if totals.ProblemsCount > 0 {
				code = 1 // something in the file was not loaded
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return 1
		}
	}
	// Fresh statistics after a load, so that the plans every connection keeps are made for
	// the tables as they now are (see db.Store.Analyze): of the tables the load wrote to, so
	// that a replay, which writes nothing, analyzes nothing.
	if len(written) == 0 {
		return code
	}
	if err := store.Analyze(ctx, written...); err != nil {
		// The load stands; only the statistics are stale until autovacuum analyzes the tables.
		fmt.Fprintf(stderr, "analyze the loaded tables (the load itself succeeded): %v\n", err)
	}
	return code
}

// fillDemo ingests the synthetic portfolio into an empty store, through the same mutation.
func fillDemo(ctx context.Context, store *db.Store, cfg *config, log *slog.Logger) error {
	page, _, err := store.FindCustomers(ctx, models.AllOrganizations(), nil, nil, db.PageArgs{First: new(1)})
	if err != nil {
		return err
	}
	if len(page.Items) > 0 {
		log.Info("demo: the store already has customers; leaving it as it is")
		return nil
	}
	pr, pw := io.Pipe()
	go func() {
		enc := json.NewEncoder(pw)
		for _, c := range feed.Demo(1000, 1) {
			if err := enc.Encode(c); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.Close()
	}()
	// The portfolio is valid: a problem in it must show, so nothing is skipped.
	totals, err := feed.Load(ctx, pr, ingester(store, cfg, log), loadOptions(feed.Options{BatchSize: 500, Name: "demo"}))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if totals.RejectedBatches > 0 {
		return fmt.Errorf("demo: %d batches rejected, first problem: %v", totals.RejectedBatches, totals.Problems[0])
	}
	log.Info("demo: synthetic portfolio loaded", "customers", totals.Customers.Created, "accounts", totals.Accounts.Created, "cards", totals.Cards.Created)
	return nil
}

// orgList collects repeated or comma-separated -org flags.
type orgList []string

func (o *orgList) String() string { return strings.Join(*o, ",") }

func (o *orgList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*o = append(*o, s)
		}
	}
	return nil
}

// runToken is `go run . token -role reader -org 50004 -ttl 1h`: it prints a token signed with
// the configured secret.
func runToken(args []string, stdout, stderr io.Writer) int {
	cfg, _, err := parseConfig("portfolio-graph token", nil, stderr) // the AUTH_JWT_* environment
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	fs := flag.NewFlagSet("portfolio-graph token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "reader", "reader, writer or admin")
	var orgs orgList
	fs.Var(&orgs, "org", "organization id the token may see (repeat or separate with commas; * for all)")
	ttl := fs.Duration("ttl", time.Hour, "time to live")
	sub := fs.String("sub", "operator", "subject (who the token is for)")
	fs.StringVar(&cfg.auth.Secret, "auth-jwt-secret", cfg.auth.Secret, "signing secret (env AUTH_JWT_SECRET)")
	hideSecretDefaults(fs)
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	tok, err := auth.Mint(cfg.auth, *sub, *role, orgs, *ttl)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

// commandsUsage is the part of -h that lists the commands beside serving.
const commandsUsage = `Without a command it serves, migrating the schema first. Commands:
  ingest [flags] FILE...       load publisher files (JSON document or NDJSON) and exit
  token [flags]                print a bearer token signed with AUTH_JWT_SECRET
  migrate [status|up] [flags]  show the schema's version and migrations, or apply the pending ones
Flags:
`

// runMigrate is `go run . migrate [status|up]`: status lists this build's migrations and which
// the database has (changing nothing); up applies the pending ones, as serving does at start.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	action := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		action, args = args[0], args[1:]
	}
	cfg, fs, err := parseConfig(migrateCommand, args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	switch {
	case action == "" && fs.NArg() == 1:
		action = fs.Arg(0) // the action after the flags
	case fs.NArg() > 0:
		action = "?"
	case action == "":
		action = "status"
	}
	if action != "status" && action != "up" {
		if action == "?" {
			action = strings.Join(fs.Args(), " ")
		}
		fmt.Fprintf(stderr, "unknown migrate subcommand %q: use status or up\nusage: portfolio-graph migrate [status|up] [flags]\n", action)
		return 2
	}
	log, err := newLogger(cfg.logLevel, cfg.logFormat, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	sc := cfg.storeConfig(log)
	sc.NoMigrate = true
	if path := db.SQLitePath(cfg.databaseURL); action == "status" && path != "" {
		if _, err := os.Stat(path); err != nil {
			// status changes nothing: it does not create the file a mistyped path names.
			fmt.Fprintf(stderr, "no embedded store at %s\n", path)
			return 1
		}
	}
	store, err := db.Open(ctx, sc)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer store.Close()
	if action == "up" {
		s, err := store.Migrate(ctx)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if s.Baselined {
			fmt.Fprintln(stdout, "recorded the existing tables (created before versioned migrations) as version 1")
		}
		for _, m := range s.Applied {
			fmt.Fprintf(stdout, "applied %d %s (%s)\n", m.Version, m.Name, m.Duration.Round(time.Millisecond))
		}
		if len(s.Applied) == 0 && !s.Baselined {
			fmt.Fprintln(stdout, "nothing to apply")
		}
		fmt.Fprintf(stdout, "schema version %d (this build knows up to %d)\n", s.Version, s.Latest)
		if s.Newer() {
			fmt.Fprintln(stdout, "the database is newer than this build")
		}
		return 0
	}
	st, err := store.MigrationStatus(ctx)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	switch {
	case st.Unversioned && st.Legacy:
		fmt.Fprintln(stdout, "no version table: the tables predate versioned migrations; `migrate up` (or serving) records them as version 1")
	case st.Unversioned:
		fmt.Fprintln(stdout, "no version table: an empty database")
	default:
		fmt.Fprintf(stdout, "schema version %d (this build knows up to %d)\n", st.Version, st.Latest)
	}
	if st.Newer() {
		fmt.Fprintln(stdout, "the database is newer than this build")
	}
	for _, m := range st.Migrations {
		state, at := "pending", ""
		if m.Applied {
			state, at = "applied", m.AppliedAt.UTC().Format(time.DateTime)
		} else if st.Legacy && m.Version == 1 {
			state = "existing"
		}
		fmt.Fprintf(stdout, "%-8s %-19s %s\n", state, at, m.Name)
	}
	return 0
}
