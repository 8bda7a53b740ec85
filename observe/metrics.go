// Package observe is what operators see of a running server besides its answers: Prometheus
// metrics in a registry of their own, the admin handler serving them with pprof, and the
// OpenTelemetry tracer provider, exporting over OTLP when the standard variables name an
// endpoint. It knows nothing of GraphQL, HTTP routing or SQL: the middleware, the GraphQL
// layer and the store report to it through the methods below.
package observe

import (
	"database/sql"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds the server's metrics. Recording is a few atomic additions; the work of
// formatting them is done when /metrics is scraped.
type Metrics struct {
	reg        *prometheus.Registry
	names      *OperationNames
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	statements *prometheus.HistogramVec
	sqlTime    prometheus.Histogram
	rows       *prometheus.CounterVec
	refused    *prometheus.CounterVec
}

// Operation types as labelled; NoOperation is a request refused before an operation was
// chosen (a bad token, a body too large, a document that does not parse or validate).
const NoOperation = "none"

// NewMetrics registers the server's metrics, with the Go runtime's and the process's, in a new
// registry (not the global default, so that nothing a library registers there is exported).
func NewMetrics() *Metrics {
	m := &Metrics{
		reg:   prometheus.NewRegistry(),
		names: NewOperationNames(MaxOperationNames),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portfolio_graphql_requests_total",
			Help: "GraphQL requests by operation name (the first 100 distinct names; unnamed and later ones are \"other\"), operation type (none: refused before an operation was chosen) and outcome (the error code, or ok).",
		}, []string{"operation", "type", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portfolio_graphql_request_duration_seconds",
			Help:    "Time from receiving a GraphQL request to its answer, by operation name and type.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation", "type"}),
		statements: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portfolio_graphql_request_sql_statements",
			Help:    "SQL statements sent for one GraphQL request, by operation name and type.",
			Buckets: []float64{0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64},
		}, []string{"operation", "type"}),
		sqlTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "portfolio_sql_statement_duration_seconds",
			Help:    "Time one SQL statement took, from sending it to its result.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portfolio_ingest_rows_total",
			Help: "Rows written by ingestCustomers (dry runs excluded), by kind (customer, account, card) and result (created, updated, unchanged, deleted).",
		}, []string{"kind", "result"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portfolio_ingest_customers_refused_total",
			Help: "Customers sent to ingestCustomers and not written (dry runs excluded): rejected with their whole batch, or skipped under skipInvalid.",
		}, []string{"reason"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.statements, m.sqlTime, m.rows, m.refused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Series that exist before the first ingest, so that a rate over them starts at zero.
	for _, kind := range []string{"customer", "account", "card"} {
		for _, result := range []string{"created", "updated", "unchanged", "deleted"} {
			m.rows.WithLabelValues(kind, result)
		}
	}
	m.refused.WithLabelValues("rejected")
	m.refused.WithLabelValues("skipped")
	return m
}

// Registry is where the metrics are registered, for the admin handler and for tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// WatchPool exports the statistics of a connection pool (open, in use, idle connections,
// waits and their duration) as the go_sql_* families, labelled db_name.
func (m *Metrics) WatchPool(db *sql.DB, name string) {
	m.reg.MustRegister(collectors.NewDBStatsCollector(db, name))
}

// WatchRetries exports a count of write transactions run again, read from retries at each
// scrape.
func (m *Metrics) WatchRetries(retries func() uint64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "portfolio_db_transaction_retries_total",
		Help: "Write transactions run again after a deadlock or a serialization failure.",
	}, func() float64 { return float64(retries()) }))
}

// WatchConnectAttempts exports the connections the store has tried to open (PostgreSQL).
func (m *Metrics) WatchConnectAttempts(attempts func() uint64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "portfolio_db_connect_attempts_total",
		Help: "Connections the server tried to open to PostgreSQL, the retries while it was unreachable included.",
	}, func() float64 { return float64(attempts()) }))
}

// Request records one GraphQL request: its operation name ("" when unnamed) and type
// (NoOperation when none was chosen), the error codes of its answer, how long it took and
// how many SQL statements it sent.
func (m *Metrics) Request(name, typ string, codes []string, elapsed time.Duration, statements int64) {
	name = m.names.Label(name)
	if typ == "" {
		typ = NoOperation
	}
	m.requests.WithLabelValues(name, typ, Outcome(codes)).Inc()
	m.latency.WithLabelValues(name, typ).Observe(elapsed.Seconds())
	m.statements.WithLabelValues(name, typ).Observe(float64(statements))
}

// Statement records one SQL statement.
func (m *Metrics) Statement(elapsed time.Duration) { m.sqlTime.Observe(elapsed.Seconds()) }

// Rows records what an ingest did with rows of one kind.
func (m *Metrics) Rows(kind string, created, updated, unchanged, deleted int) {
	for _, c := range []struct {
		result string
		n      int
	}{{"created", created}, {"updated", updated}, {"unchanged", unchanged}, {"deleted", deleted}} {
		if c.n > 0 {
			m.rows.WithLabelValues(kind, c.result).Add(float64(c.n))
		}
	}
}

// CustomersRefused records customers an ingest did not write: "rejected" with their batch, or
// "skipped" under skipInvalid.
func (m *Metrics) CustomersRefused(reason string, n int) {
	if n > 0 {
		m.refused.WithLabelValues(reason).Add(float64(n))
	}
}

// Outcome is the label of an answer with these error codes: "ok" without any; else the code
// that matters most to an operator, an internal error before an unavailable database, before
// the first code the answer carried.
func Outcome(codes []string) string {
	switch {
	case len(codes) == 0:
		return "ok"
	case slices.Contains(codes, "INTERNAL_SERVER_ERROR"):
		return "INTERNAL_SERVER_ERROR"
	case slices.Contains(codes, "SERVICE_UNAVAILABLE"):
		return "SERVICE_UNAVAILABLE"
	}
	return codes[0]
}
