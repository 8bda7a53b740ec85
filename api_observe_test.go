package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// withMetrics configures an admin listener, which gives the server its metrics; the harness
// serves the admin handler on a test server of its own (env.admin).
func withMetrics(c *config) { c.adminListen = "127.0.0.1:0" }

// scrape reads the admin handler's /metrics over HTTP and parses the text format.
func (e *env) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(e.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// sample finds the series of family name with exactly these labels (nil when absent).
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels)/2 {
			continue
		}
		match := true
		for i := 0; i < len(labels); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			match = match && found
		}
		if match {
			return m
		}
	}
	return nil
}

// value is a counter's value, a gauge's, or a histogram's count of observations; 0 when the
// series is absent.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	m := sample(fams, name, labels...)
	switch {
	case m == nil:
		return 0
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return m.GetUntyped().GetValue()
}

// histogramSum is the sum of a histogram's observations.
func histogramSum(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	return sample(fams, name, labels...).GetHistogram().GetSampleSum()
}

// The admin handler exports every family, and the counts move with the requests: by operation
// name, type and outcome (a refused request counts its code), SQL statements per request, rows
// ingested, customers rejected and skipped.
func TestMetrics(t *testing.T) {
	forEachStoreWith(t, withMetrics, func(t *testing.T, e *env) {
		before := e.scrape(t)
		statements := e.statements.Load()

		e.mustIngest(t, customer("C1", "O1"), customer("C2", "O1"))
		e.mustIngest(t, customer("C1", "O1"), customer("C2", "O1")) // again: unchanged
		bad := with(customer("C4", "O1"), "country", "ZZ")
		if p := e.ingest(t, []any{customer("C3", "O1"), bad}, nil); len(p.UserErrors) != 1 {
			t.Fatalf("a batch with an invalid customer: got %+v", p)
		}
		if p := e.ingest(t, []any{customer("C3", "O1"), bad}, obj{"skipInvalid": true}); p.Summary.SkippedCustomers != 1 {
			t.Fatalf("skipInvalid: got %+v", p)
		}
		e.ingest(t, []any{customer("C5", "O1")}, obj{"dryRun": true}) // counts nothing
		// Over the batch limit: refused before the store sees it, counted as the store counts it.
		if p := e.ingest(t, many(1001, "O1"), nil); len(p.UserErrors) != 1 || p.UserErrors[0].Code != "LIMIT_EXCEEDED" {
			t.Fatalf("a batch over the limit: got %+v", p.UserErrors)
		}
		const cards = `query Cards { cards(filter: {last4: "1234"}) { nodes { last4 account { status holders { sourceCustomerId cards { last4 } } } } } }`
		cardStatements := e.countStatements(func() { e.query(t, cards, nil, nil) })
		e.errorsOf(t, `query Broken { nope }`, nil) // GRAPHQL_VALIDATION_FAILED
		resp, err := http.Post(e.url+"/query", "text/plain", strings.NewReader(`{ viewer { role } }`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close() // 415 BAD_USER_INPUT, refused at the edge

		after := e.scrape(t)
		delta := func(name string, labels ...string) float64 {
			return value(after, name, labels...) - value(before, name, labels...)
		}
		for _, c := range []struct {
			what   string
			got    float64
			want   float64
			labels []string
		}{
			{"customers created", delta("portfolio_ingest_rows_total", "kind", "customer", "result", "created"), 3, nil},
			{"customers unchanged", delta("portfolio_ingest_rows_total", "kind", "customer", "result", "unchanged"), 2, nil},
			{"accounts created", delta("portfolio_ingest_rows_total", "kind", "account", "result", "created"), 3, nil},
			{"cards created", delta("portfolio_ingest_rows_total", "kind", "card", "result", "created"), 3, nil},
			{"customers rejected", delta("portfolio_ingest_customers_refused_total", "reason", "rejected"), 2 + 1001, nil},
			{"customers skipped", delta("portfolio_ingest_customers_refused_total", "reason", "skipped"), 1, nil},
			// The ingest mutation is unnamed: "other".
			{"unnamed mutations", delta("portfolio_graphql_requests_total", "operation", "other", "type", "mutation", "outcome", "ok"), 6, nil},
			{"Cards queries", delta("portfolio_graphql_requests_total", "operation", "Cards", "type", "query", "outcome", "ok"), 1, nil},
			{"Cards latency observations", delta("portfolio_graphql_request_duration_seconds", "operation", "Cards", "type", "query"), 1, nil},
			{"Cards statements", histogramSum(after, "portfolio_graphql_request_sql_statements", "operation", "Cards", "type", "query"), float64(cardStatements), nil},
			{"validation failures", delta("portfolio_graphql_requests_total", "operation", "other", "type", "none", "outcome", "GRAPHQL_VALIDATION_FAILED"), 1, nil},
			{"edge refusals", delta("portfolio_graphql_requests_total", "operation", "other", "type", "none", "outcome", "BAD_USER_INPUT"), 1, nil},
			{"statement durations", delta("portfolio_sql_statement_duration_seconds"), float64(e.statements.Load() - statements), nil},
		} {
			if c.got != c.want {
				t.Errorf("%s: moved by %v, want %v", c.what, c.got, c.want)
			}
		}
		if cardStatements < 3 {
			t.Errorf("the Cards query sent %d statements: the statement histogram checks little", cardStatements)
		}
		if sample(after, "portfolio_graphql_requests_total", "operation", "Broken", "type", "none", "outcome", "GRAPHQL_VALIDATION_FAILED") != nil {
			t.Error("an operation that did not validate claimed a name of its own")
		}
		for _, name := range []string{
			"portfolio_graphql_requests_total", "portfolio_graphql_request_duration_seconds",
			"portfolio_graphql_request_sql_statements", "portfolio_sql_statement_duration_seconds",
			"portfolio_ingest_rows_total", "portfolio_ingest_customers_refused_total",
			"portfolio_db_transaction_retries_total",
			"portfolio_db_connect_attempts_total",
			"go_sql_open_connections", "go_sql_in_use_connections", "go_sql_idle_connections",
			"go_sql_wait_count_total", "go_sql_wait_duration_seconds_total", "go_sql_max_open_connections",
			"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes",
		} {
			if after[name] == nil {
				t.Errorf("/metrics has no %s", name)
			}
		}
		if got := value(after, "go_sql_max_open_connections", "db_name", e.store.Dialect()); got != float64(e.store.Pool().Stats().MaxOpenConnections) {
			t.Errorf("go_sql_max_open_connections{db_name=%q}: got %v", e.store.Dialect(), got)
		}
	})
}

// /metrics and pprof are served on the admin listener only, and an admin listener on a
// non-loopback address is refused without -admin-insecure.
func TestAdminListener(t *testing.T) {
	cfg, _, err := parseConfig("test", []string{"-admin-listen", ":9090"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkAdminAddr(cfg); err == nil || !strings.Contains(err.Error(), "-admin-insecure") {
		t.Errorf("-admin-listen :9090: got %v, want a refusal naming -admin-insecure", err)
	}
	cfg.adminInsecure = true
	if err := checkAdminAddr(cfg); err != nil {
		t.Errorf("-admin-listen :9090 -admin-insecure: %v", err)
	}

	url, stop, done, logs := startServer(t, func(c *config) { c.adminListen = "127.0.0.1:0"; c.shutdownDrain = 0 }, &acceptLog{addrs: map[string]bool{}})
	m := regexpFind(t, logs.String(), `metrics=(http://127\.0\.0\.1:\d+)/metrics`)
	for _, c := range []struct {
		url, want string
		status    int
	}{
		{m + "/metrics", "# TYPE portfolio_ingest_rows_total counter", 200},
		{m + "/debug/pprof/", "goroutine", 200},
		{m + "/debug/pprof/goroutine?debug=1", "goroutine profile", 200},
		{url + "/metrics", "", 404},
		{url + "/debug/pprof/", "", 404},
	} {
		resp, err := http.Get(c.url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.Contains(string(body), c.want) {
			t.Errorf("GET %s: got %d %.200s, want %d with %q", c.url, resp.StatusCode, body, c.status, c.want)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(m + "/metrics"); err == nil {
		t.Error("the admin listener still answers after shutdown")
	}
}

// otlpReceiver is an OTLP/HTTP trace receiver: it decodes the protobuf export requests sent
// to /v1/traces and keeps their spans.
type otlpReceiver struct {
	*httptest.Server
	mu    sync.Mutex
	spans []*tracepb.Span
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	r := &otlpReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		raw, _ := io.ReadAll(body)
		var export collectortrace.ExportTraceServiceRequest
		if req.URL.Path != "/v1/traces" || proto.Unmarshal(raw, &export) != nil {
			http.Error(w, "not an OTLP trace export", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rs := range export.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				r.spans = append(r.spans, ss.GetSpans()...)
			}
		}
		r.mu.Unlock()
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *otlpReceiver) received() []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*tracepb.Span(nil), r.spans...)
}

func (r *otlpReceiver) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.spans = nil
}

// regexpFind returns the first group of pattern's first match in s.
func regexpFind(t *testing.T, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in:\n%s", pattern, s)
	}
	return m[1]
}

func attr(s *tracepb.Span, key string) *commonpb.AnyValue {
	for _, a := range s.GetAttributes() {
		if a.GetKey() == key {
			return a.GetValue()
		}
	}
	return nil
}

// A nested query sent with a traceparent is one trace, exported over OTLP when the standard
// variable names an endpoint: the HTTP span is the child of the caller's span, the operation's
// span the child of the HTTP span, each SQL statement's span the child of the operation's,
// holding the statement's text with placeholders; no span holds a value of the request.
func TestTraceOfNestedQuery(t *testing.T) {
	rec := newOTLPReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rec.URL)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "600000") // only the flush at shutdown exports
	forEachStore(t, func(t *testing.T, e *env) {
		rec.reset()
		const id, postal = "SECRETID4711", "ZQ98765"
		e.mustIngest(t, with(customer(id, "O1"), "postalCode", postal), customer("C2", "O1"))
		const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
		body := jsonString(obj{"query": `query Holder($id: String!, $p: String) {
  customer(sourceCustomerId: $id) { country accounts { sourceAccountId cards { last4 } holders { sourceCustomerId } } }
  customers(filter: {postalCode: $p}) { totalCount }
}`, "variables": obj{"id": id, "p": postal}})
		req, _ := http.NewRequest(http.MethodPost, e.url+"/query", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Traceparent", "00-"+traceID+"-"+parentID+"-01")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(answer), id) {
			t.Fatalf("the query failed: %d %s", resp.StatusCode, answer)
		}
		if len(rec.received()) != 0 {
			t.Fatal("spans were exported before the shutdown: this test cannot tell the flush")
		}
		e.obs.shutdown(slog.New(slog.DiscardHandler)) // what serve does on its way out

		var httpSpan, opSpan *tracepb.Span
		var sqlSpans []*tracepb.Span
		for _, s := range rec.received() {
			if hexID(s.GetTraceId()) != traceID {
				continue // the ingests' spans
			}
			switch {
			case s.GetName() == "POST /query":
				httpSpan = s
			case s.GetName() == "query Holder":
				opSpan = s
			case attr(s, "db.query.text") != nil:
				sqlSpans = append(sqlSpans, s)
			}
		}
		if httpSpan == nil || opSpan == nil {
			t.Fatalf("no HTTP or operation span in the caller's trace; received %d spans", len(rec.received()))
		}
		if got := hexID(httpSpan.GetParentSpanId()); got != parentID {
			t.Errorf("the HTTP span's parent is %s, want the caller's %s", got, parentID)
		}
		if !bytes.Equal(opSpan.GetParentSpanId(), httpSpan.GetSpanId()) {
			t.Error("the operation span is not the child of the HTTP span")
		}
		if v := attr(opSpan, "graphql.operation.type").GetStringValue(); v != "query" {
			t.Errorf("graphql.operation.type: got %q", v)
		}
		if v := attr(httpSpan, "request.id").GetStringValue(); v != resp.Header.Get("X-Request-Id") {
			t.Errorf("request.id on the HTTP span: got %q, want %q", v, resp.Header.Get("X-Request-Id"))
		}
		if len(sqlSpans) < 3 { // the statements of the nested query: no fewer than three
			t.Fatalf("%d SQL spans, want one for each statement of the nested query", len(sqlSpans))
		}
		for _, s := range sqlSpans {
			if !bytes.Equal(s.GetParentSpanId(), opSpan.GetSpanId()) {
				t.Errorf("SQL span %q is not the child of the operation span", s.GetName())
			}
			text := attr(s, "db.query.text").GetStringValue()
			if !strings.Contains(text, "?") && !strings.Contains(text, "$1") {
				t.Errorf("a statement without placeholders: %s", text)
			}
		}
		for _, s := range rec.received() {
			raw, _ := json.Marshal(s) // every attribute, event and status of the span
			for _, v := range []string{id, postal, "78753"} {
				if bytes.Contains(raw, []byte(v)) {
					t.Errorf("span %q holds %q: %s", s.GetName(), v, raw)
				}
			}
		}
		logLine := regexpFind(t, e.logs.String(), `msg=request id=\S+ trace_id=(\w+) method=POST path=/query operation=Holder`)
		if logLine != traceID {
			t.Errorf("the access log names trace %s, want %s", logLine, traceID)
		}
	})
}

func hexID(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// With -log-format json every line is a JSON object, and a request's line has its id, trace
// id, operation name and type, status, error codes, duration, SQL statements and bytes.
func TestAccessLogJSON(t *testing.T) {
	forEachStoreWith(t, func(c *config) { c.logFormat = "json" }, func(t *testing.T, e *env) {
		e.mustIngest(t, customer("C1", "O1"))
		const traceID = "0af7651916cd43dd8448eb211c80319c"
		req, _ := http.NewRequest(http.MethodPost, e.url+"/query",
			strings.NewReader(jsonString(obj{"query": `query Count { customers { totalCount nodes { accounts { sourceAccountId } } } }`})))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Traceparent", "00-"+traceID+"-b7ad6b7169203331-01")
		var resp *http.Response
		statements := e.countStatements(func() {
			var err error
			if resp, err = http.DefaultClient.Do(req); err != nil {
				t.Fatal(err)
			}
		})
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		e.errorsOf(t, `{ nope }`, nil)

		type line struct {
			Time          time.Time
			Level, Msg    string
			ID            string `json:"id"`
			TraceID       string `json:"trace_id"`
			Operation     string `json:"operation"`
			OperationType string `json:"operation_type"`
			Status        int    `json:"status"`
			Codes         string `json:"codes"`
			Duration      *int64 `json:"duration"` // nanoseconds
			SQL           *int64 `json:"sql_statements"`
			Bytes         *int64 `json:"bytes"`
		}
		var requests []line
		for l := range strings.Lines(e.logs.String()) {
			var v line
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Fatalf("a log line is not JSON: %v\n%s", err, l)
			}
			if v.Time.IsZero() || v.Level == "" || v.Msg == "" {
				t.Errorf("a line without time, level or msg: %s", l)
			}
			if v.Msg == "request" {
				requests = append(requests, v)
			}
		}
		if len(requests) != 3 {
			t.Fatalf("%d access log lines, want 3:\n%s", len(requests), e.logs)
		}
		got := requests[1]
		if got.ID != resp.Header.Get("X-Request-Id") || got.TraceID != traceID || got.Operation != "Count" || got.OperationType != "query" ||
			got.Status != 200 || got.Codes != "" || got.Duration == nil || *got.Duration <= 0 ||
			got.SQL == nil || *got.SQL != statements || got.Bytes == nil || *got.Bytes != int64(len(answer)) {
			t.Errorf("access log line: got %+v (sql %v, bytes %v), want id %s, trace %s, Count query, 200, %d statements, %d bytes",
				got, deref(got.SQL), deref(got.Bytes), resp.Header.Get("X-Request-Id"), traceID, statements, len(answer))
		}
		if statements < 2 {
			t.Errorf("the query sent %d statements: the count checks little", statements)
		}
		refused := requests[2]
		if refused.Status != 200 || refused.Codes != "GRAPHQL_VALIDATION_FAILED" || refused.OperationType != "" || refused.TraceID != "" || *refused.SQL != 0 {
			t.Errorf("refused request's line: got %+v", refused)
		}
	})
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// The cost of observing a request: nothing (no metrics, no tracing: the default), metrics,
// metrics and tracing (spans exported to an in-process receiver).
//
//	go test -run '^$' -bench BenchmarkObserve -benchmem .
func BenchmarkObserve(b *testing.B) {
	rec := &otlpReceiver{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	defer rec.Close()
	const q = `query Page { customers(first: 20) { nodes { sourceCustomerId accounts { sourceAccountId cards { last4 } } } } }`
	for _, c := range []struct {
		name    string
		tweak   func(*config)
		tracing bool
	}{{"off", nil, false}, {"metrics", withMetrics, false}, {"metrics+tracing", withMetrics, true}} {
		b.Run(c.name, func(b *testing.B) {
			if c.tracing {
				b.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rec.URL)
			}
			e := newEnv(b, "sqlite", c.tweak)
			if _, err := e.send(ingestQuery, obj{"customers": many(20, "O1")}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.send(q, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Serving flushes the spans still buffered on its way out: with the batch delay far beyond
// the test, only the flush at shutdown can have exported them.
func TestShutdownFlushesTraces(t *testing.T) {
	rec := newOTLPReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rec.URL)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "600000")
	url, stop, done, _ := startServer(t, func(c *config) { c.shutdownDrain = 0 }, &acceptLog{addrs: map[string]bool{}})
	resp, err := http.Post(url+"/query", "application/json", strings.NewReader(`{"query": "query Me { viewer { role } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := len(rec.received()); n != 0 {
		t.Fatalf("%d spans exported before the shutdown: this test cannot tell the flush", n)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, s := range rec.received() {
		names[s.GetName()] = true
	}
	if !names["POST /query"] || !names["query Me"] {
		t.Errorf("after shutdown the receiver has %v, want the request's and the operation's spans", names)
	}
}
