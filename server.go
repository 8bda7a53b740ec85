// Command portfolio-graph serves customer portfolios (customers, their accounts and their
// cards) over GraphQL, on PostgreSQL or an embedded SQLite file.
//
//	go run .                      serve (embedded store, playground at the printed address)
//	go run . -demo                serve, filling an empty store with a synthetic portfolio
//	go run . ingest FILE...       load publisher files (JSON document or NDJSON) and exit
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
	"mime"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/portfolio-graph/portfolio-graph/auth"
	"github.com/portfolio-graph/portfolio-graph/db"
	"github.com/portfolio-graph/portfolio-graph/feed"
	"github.com/portfolio-graph/portfolio-graph/graph"
	"github.com/portfolio-graph/portfolio-graph/models"
	"github.com/portfolio-graph/portfolio-graph/playground"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// config is everything the server reads from flags and the environment.
type config struct {
	databaseURL      string
	listenAddr       string
	logLevel         string
	playground       bool
	insecure         bool
	demo             bool
	dbMaxConns       int
	statementTimeout time.Duration
	requestTimeout   time.Duration
	maxBodyBytes     int64
	defaultPageSize  int
	maxPageSize      int
	maxIngestBatch   int
	maxTokens        int
	maxDepth         int
	maxComplexity    int
	ingestBatch      int
	skipInvalid      bool
	auth             auth.Config
}

// parseConfig reads flags over environment variables over defaults. Every flag mirrors one
// variable; `-h` lists them all with their defaults.
func parseConfig(name string, args []string, stderr io.Writer) (*config, *flag.FlagSet, error) {
	c := &config{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
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
	fs.StringVar(&c.databaseURL, "database-url", env("DATABASE_URL", ""), "postgres:// URL of the database (env DATABASE_URL); empty means the embedded SQLite file "+db.DefaultSQLitePath)
	fs.StringVar(&c.listenAddr, "listen", env("LISTEN_ADDR", defaultListen), "address to serve on (env LISTEN_ADDR; PORT alone means :$PORT)")
	fs.StringVar(&c.auth.Secret, "auth-jwt-secret", env("AUTH_JWT_SECRET", ""), "shared secret (32+ characters) verifying HS256 bearer tokens (env AUTH_JWT_SECRET); with no key the server runs open")
	fs.StringVar(&c.auth.PublicKeyFile, "auth-jwt-public-key-file", env("AUTH_JWT_PUBLIC_KEY_FILE", ""), "PEM public key verifying RS256 or ES256 bearer tokens (env AUTH_JWT_PUBLIC_KEY_FILE)")
	fs.StringVar(&c.auth.Issuer, "auth-jwt-issuer", env("AUTH_JWT_ISSUER", ""), "required iss claim, if set (env AUTH_JWT_ISSUER)")
	fs.StringVar(&c.auth.Audience, "auth-jwt-audience", env("AUTH_JWT_AUDIENCE", ""), "required aud claim, if set (env AUTH_JWT_AUDIENCE)")
	fs.StringVar(&c.logLevel, "log-level", env("LOG_LEVEL", "info"), "debug, info, warn or error (env LOG_LEVEL)")
	fs.BoolVar(&c.playground, "playground", envBool("PLAYGROUND", true), "serve the GraphiQL playground at / when listening on loopback (env PLAYGROUND)")
	fs.BoolVar(&c.insecure, "insecure", envBool("INSECURE", false), "allow serving without authentication on a non-loopback address (env INSECURE)")
	fs.BoolVar(&c.demo, "demo", envBool("DEMO", false), "fill an empty store with a synthetic portfolio of 1,000 customers (env DEMO)")
	fs.IntVar(&c.dbMaxConns, "db-max-conns", envInt("DB_MAX_CONNS", 16), "database connection pool size (env DB_MAX_CONNS; SQLite uses at most 4)")
	fs.DurationVar(&c.statementTimeout, "statement-timeout", envDur("DB_STATEMENT_TIMEOUT", 30*time.Second), "PostgreSQL statement_timeout (env DB_STATEMENT_TIMEOUT)")
	fs.DurationVar(&c.requestTimeout, "request-timeout", envDur("REQUEST_TIMEOUT", 30*time.Second), "time limit of one request, SQL included (env REQUEST_TIMEOUT)")
	fs.Int64Var(&c.maxBodyBytes, "max-body-bytes", int64(envInt("MAX_BODY_BYTES", 16<<20)), "largest request body (env MAX_BODY_BYTES)")
	fs.IntVar(&c.defaultPageSize, "default-page-size", envInt("DEFAULT_PAGE_SIZE", 50), "connection page size when first/last are not given (env DEFAULT_PAGE_SIZE)")
	fs.IntVar(&c.maxPageSize, "max-page-size", envInt("MAX_PAGE_SIZE", 500), "largest first/last (env MAX_PAGE_SIZE)")
	fs.IntVar(&c.maxTokens, "max-query-tokens", envInt("MAX_QUERY_TOKENS", 10000), "most lexical tokens in a query document (env MAX_QUERY_TOKENS)")
	fs.IntVar(&c.maxDepth, "max-query-depth", envInt("MAX_QUERY_DEPTH", 12), "deepest selection nesting (env MAX_QUERY_DEPTH)")
	fs.IntVar(&c.maxComplexity, "max-complexity", envInt("MAX_COMPLEXITY", 20000), "highest estimated query cost; a connection costs its page size times its selection (env MAX_COMPLEXITY)")
	fs.IntVar(&c.maxIngestBatch, "max-ingest-batch", envInt("MAX_INGEST_BATCH", 1000), "most customers in one ingestCustomers call (env MAX_INGEST_BATCH)")
	fs.IntVar(&c.ingestBatch, "batch", envInt("INGEST_BATCH", 500), "customers per batch of the ingest command (env INGEST_BATCH)")
	fs.BoolVar(&c.skipInvalid, "skip-invalid", envBool("INGEST_SKIP_INVALID", false), "ingest command: load the valid customers of each batch and list the rest, instead of rejecting the batch (env INGEST_SKIP_INVALID)")
	if err := errors.Join(errs...); err != nil {
		return nil, fs, err
	}
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	return c, fs, nil
}

func (c *config) storeConfig(log *slog.Logger) db.Config {
	return db.Config{
		URL:              c.databaseURL,
		MaxOpenConns:     c.dbMaxConns,
		StatementTimeout: c.statementTimeout,
		DefaultPage:      c.defaultPageSize,
		MaxPage:          c.maxPageSize,
		MaxBatch:         c.maxIngestBatch,
		Logger:           log,
	}
}

func (c *config) graphOptions(store *db.Store, log *slog.Logger) graph.Options {
	return graph.Options{Store: store, Logger: log, Limits: graph.Limits{
		MaxTokens:     c.maxTokens,
		MaxDepth:      c.maxDepth,
		MaxComplexity: c.maxComplexity,
	}}
}

func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("LOG_LEVEL: %q is not debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "ingest" {
		return runIngest(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "token" {
		return runToken(args[1:], stdout, stderr)
	}
	cfg, _, err := parseConfig("portfolio-graph", args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	log, err := newLogger(cfg.logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("server stopped", "err", err)
		return 1
	}
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
	loopback := isLoopback(cfg.listenAddr)
	verifier, err := newVerifier(cfg)
	if err != nil {
		return err
	}
	if verifier == nil {
		if !loopback && !cfg.insecure {
			return fmt.Errorf("refusing to serve without authentication on %s, which is not a loopback address: configure AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY_FILE, or pass -insecure", cfg.listenAddr)
		}
		log.Warn("open mode: no authentication configured, every request is served as an admin of every organization")
	} else {
		log.Info("authentication: bearer tokens required on /query")
	}

	store, err := db.Open(ctx, cfg.storeConfig(log))
	if err != nil {
		return err
	}
	defer store.Close()
	if cfg.demo {
		if err := fillDemo(ctx, store, cfg, log); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", cfg.listenAddr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           newHTTPHandler(store, cfg, verifier, log, cfg.playground && loopback),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       cfg.requestTimeout + 30*time.Second,
		WriteTimeout:      cfg.requestTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	url := "http://" + displayAddr(ln.Addr().String())
	log.Info("serving", "store", store.Dialect(), "graphql", url+"/query")
	if cfg.playground && loopback {
		log.Info("playground", "url", url+"/")
		fmt.Fprintf(os.Stderr, "\n  GraphQL playground: %s/\n\n", url)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.requestTimeout+5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// newHTTPHandler routes the endpoints and wraps them in the request middleware.
func newHTTPHandler(store *db.Store, cfg *config, verifier *auth.Verifier, log *slog.Logger, withPlayground bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/query", checkTransport(cfg.maxTokens, readBody(cfg.maxBodyBytes, authenticate(verifier, graph.NewHandler(cfg.graphOptions(store, log))))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := store.Ping(ctx); err != nil {
			log.Warn("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "database unavailable\n")
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	if withPlayground {
		mux.Handle("/", playground.Handler("portfolio-graph", "/query"))
	}
	return withRequest(mux, cfg, log)
}

// checkTransport answers, with a coded error, what the GraphQL transports would refuse without
// one: a method other than GET, POST and OPTIONS (405), a POST body that is not JSON (415),
// and a mutation sent with GET (405: GET may not change data).
func checkTransport(maxTokens int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodOptions:
		case http.MethodPost:
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				writeError(w, http.StatusUnsupportedMediaType, models.ErrBadUserInput, "send the request as Content-Type: application/json")
				return
			}
		case http.MethodGet:
			// Only a document naming another operation type can be refused here; any other is
			// parsed once, by the executor (and its parsed-query cache).
			query := r.URL.Query().Get("query")
			if !strings.Contains(query, "mutation") && !strings.Contains(query, "subscription") {
				break
			}
			doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, maxTokens)
			if err == nil {
				if op := doc.Operations.ForName(r.URL.Query().Get("operationName")); op != nil && op.Operation != ast.Query {
					w.Header().Set("Allow", "POST")
					writeError(w, http.StatusMethodNotAllowed, models.ErrBadUserInput, "GET may only run queries: send a "+string(op.Operation)+" with POST")
					return
				}
			}
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeError(w, http.StatusMethodNotAllowed, models.ErrBadUserInput, "use POST (or GET for queries)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// readBody reads a /query request's body up to max bytes, answering 413 PAYLOAD_TOO_LARGE
// beyond that.
func readBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			payloadTooLarge(w, max)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			payloadTooLarge(w, max)
			return
		case err != nil:
			writeError(w, http.StatusBadRequest, models.ErrBadUserInput, "the request body could not be read")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

func payloadTooLarge(w http.ResponseWriter, max int64) {
	writeError(w, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", fmt.Sprintf("the request body is larger than %d bytes", max))
}

// writeError answers with one GraphQL error and no data.
func writeError(w http.ResponseWriter, status int, code models.ErrorCode, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
		"message": msg, "extensions": map[string]any{"code": string(code)},
	}}})
}

// authenticate puts the request's caller in its context: the one its bearer token names, or
// in open mode (no verifier) an admin of every organization. A request without a valid token
// is answered 401 UNAUTHENTICATED without running anything. This is the only place a caller
// is set: a path that skips it sees nothing.
func authenticate(verifier *auth.Verifier, next http.Handler) http.Handler {
	if verifier == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(graph.WithCaller(r.Context(), graph.OpenCaller())))
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if token = strings.TrimSpace(token); !ok || token == "" {
			unauthenticated(w, "a bearer token is required: Authorization: Bearer <JWT>")
			return
		}
		id, err := verifier.Verify(token)
		if err != nil {
			unauthenticated(w, err.Error())
			return
		}
		subject := id.Subject
		caller := graph.Caller{Subject: &subject, Role: id.Role, Scope: id.Scope}
		next.ServeHTTP(w, r.WithContext(graph.WithCaller(r.Context(), caller)))
	})
}

func unauthenticated(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="portfolio-graph"`)
	writeError(w, http.StatusUnauthorized, models.ErrUnauthenticated, msg)
}

// withRequest gives each request an id and a time limit, and logs it when it ends.
func withRequest(next http.Handler, cfg *config, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := &graph.RequestInfo{ID: r.Header.Get("X-Request-Id"), Start: time.Now()}
		if info.ID == "" || len(info.ID) > 64 {
			info.ID = newRequestID()
		}
		w.Header().Set("X-Request-Id", info.ID)
		ctx, cancel := context.WithTimeout(r.Context(), cfg.requestTimeout)
		defer cancel()
		ctx = graph.WithRequestInfo(ctx, info)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK, info: info}
		next.ServeHTTP(rec, r.WithContext(ctx))
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelWarn
		}
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			level = slog.LevelDebug
		}
		log.Log(r.Context(), level, "request", "id", info.ID, "method", r.Method, "path", r.URL.Path,
			"operation", info.Operation, "status", rec.status, "duration", time.Since(info.Start).Round(time.Microsecond))
	})
}

// statusRecorder remembers the status a handler wrote, for the access log, and turns a GraphQL
// answer that could serve no data because the database was unavailable into HTTP 503.
type statusRecorder struct {
	http.ResponseWriter
	info   *graph.RequestInfo
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.wrote {
		return
	}
	if code == http.StatusOK && s.info.Unavailable {
		code = http.StatusServiceUnavailable
	}
	s.status, s.wrote = code, true
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if !s.wrote {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

var requestSeq atomic.Uint64

// newRequestID returns a short id unique within the process and across restarts.
func newRequestID() string {
	return strconv.FormatInt(time.Now().UnixMilli(), 36) + "-" + strconv.FormatUint(requestSeq.Add(1), 36)
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

// ingester runs the ingestCustomers mutation in-process for each batch, as an operator with
// access to every organization.
func ingester(store *db.Store, cfg *config, log *slog.Logger) feed.IngestFunc {
	exec := graph.NewExecutor(cfg.graphOptions(store, log))
	skipInvalid := cfg.skipInvalid
	return func(ctx context.Context, customers []json.RawMessage) (*feed.BatchResult, error) {
		list := make([]any, 0, len(customers))
		for _, raw := range customers {
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			var v any
			if err := d.Decode(&v); err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		ctx = graph.WithCaller(ctx, graph.OpenCaller())
		data, errs := exec.Run(ctx, ingestMutation, map[string]any{"customers": list, "options": map[string]any{"skipInvalid": skipInvalid}})
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
	res := &feed.BatchResult{}
	for _, e := range errs {
		code, _ := e.Extensions["code"].(string)
		if code == string(models.ErrServiceUnavailable) || code == string(models.ErrInternal) {
			return nil, errors.New(e.Message)
		}
		path := strings.TrimPrefix(e.Path.String(), "variable.")
		if path == "" {
			path = "customers"
		}
		msg := strings.TrimPrefix(e.Message, e.Path.String()+": ")
		res.Problems = append(res.Problems, feed.Problem{Path: path, Code: code, Message: msg})
	}
	return res, nil
}

// runIngest is `go run . ingest FILE...`.
func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, fs, err := parseConfig("portfolio-graph ingest", args, stderr)
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
	log, err := newLogger(cfg.logLevel, stderr)
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
		totals, err := feed.Load(ctx, r, ingest, feed.Options{BatchSize: cfg.ingestBatch, Progress: stderr, Name: name})
		fmt.Fprintf(stdout, "%s (%.1fs):\n", name, time.Since(start).Seconds())
		if totals != nil {
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
	demo := *cfg
	demo.skipInvalid = false // the portfolio is valid; a problem in it must show
	totals, err := feed.Load(ctx, pr, ingester(store, &demo, log), feed.Options{BatchSize: 500, Name: "demo"})
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
