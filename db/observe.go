package db

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// Observer is told what the store does, for the access log, metrics and traces. Every field
// is optional; a store without any pays nothing for them.
type Observer struct {
	// Statement is called once for every SQL statement sent, when it returns, with the time it
	// took and whether it failed.
	Statement func(ctx context.Context, elapsed time.Duration, failed bool)
	// Ingest is called once for every ingest that reached a decision (not for one that failed
	// on the database), dry runs included.
	Ingest func(ctx context.Context, r IngestReport)
	// Tracer, when set, gives every statement a client span, child of the span in its
	// context, holding the statement's text with its placeholders (never the values bound to
	// them).
	Tracer trace.TracerProvider
}

// IngestReport is the outcome of one ingest.
type IngestReport struct {
	// Summary counts what was written (all zeros for a rejected batch).
	Summary models.IngestSummary
	// Rejected counts the customers of a batch refused whole: one with a problem and no
	// skipInvalid, or one over the batch limit.
	Rejected int
	// DryRun is set when nothing was written on purpose.
	DryRun bool
}

// reportIngest tells the observer what an ingest decided; rejected is the number of customers
// of a batch refused whole.
func (s *Store) reportIngest(ctx context.Context, res *IngestResult, rejected int, opt IngestOptions) {
	if s.cfg.Observer.Ingest == nil || res == nil {
		return
	}
	s.cfg.Observer.Ingest(ctx, IngestReport{Summary: res.Summary, Rejected: rejected, DryRun: opt.DryRun})
}

// Pool is the connection pool, for its statistics (sql.DBStats); every query goes through the
// store's methods.
func (s *Store) Pool() *sql.DB { return s.sqlDB }

// maxTracedSQL is how much of a statement's text a span keeps: a multi-row upsert lists
// thousands of placeholders.
const maxTracedSQL = 2000

// statementSpans is a GORM plugin giving each statement a span. gorm.io/plugin/opentelemetry
// does the same, but it records the driver's error text in the span (PostgreSQL quotes the
// offending value in some messages) and links the MySQL and ClickHouse drivers into the binary.
type statementSpans struct {
	tracer trace.Tracer
	system string
}

func (statementSpans) Name() string { return "statement_spans" }

func (p statementSpans) Initialize(gdb *gorm.DB) error {
	cb := gdb.Callback()
	type register interface {
		Register(name string, fn func(*gorm.DB)) error
	}
	for _, h := range []struct {
		before, after register
		name          string
	}{
		{cb.Create().Before("gorm:create"), cb.Create().After("gorm:create"), "create"},
		{cb.Query().Before("gorm:query"), cb.Query().After("gorm:query"), "query"},
		{cb.Update().Before("gorm:update"), cb.Update().After("gorm:update"), "update"},
		{cb.Delete().Before("gorm:delete"), cb.Delete().After("gorm:delete"), "delete"},
		{cb.Row().Before("gorm:row"), cb.Row().After("gorm:row"), "row"},
		{cb.Raw().Before("gorm:raw"), cb.Raw().After("gorm:raw"), "raw"},
	} {
		if err := h.before.Register("observe:before_"+h.name, p.start); err != nil {
			return err
		}
		if err := h.after.Register("observe:after_"+h.name, p.end); err != nil {
			return err
		}
	}
	return nil
}

// spanContext is a statement's context with its span, remembering the context it replaced.
type spanContext struct {
	context.Context
	parent context.Context
}

func (p statementSpans) start(tx *gorm.DB) {
	ctx, _ := p.tracer.Start(tx.Statement.Context, "sql", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", p.system)))
	tx.Statement.Context = spanContext{Context: ctx, parent: tx.Statement.Context}
}

func (p statementSpans) end(tx *gorm.DB) {
	sc, ok := tx.Statement.Context.(spanContext)
	if !ok {
		return
	}
	tx.Statement.Context = sc.parent
	span := trace.SpanFromContext(sc.Context)
	defer span.End()
	if !span.IsRecording() {
		return
	}
	// The text as built, with its placeholders: the values are in tx.Statement.Vars, which
	// never reach the span.
	text := cutSQL(tx.Statement.SQL.String(), maxTracedSQL)
	op, _, _ := strings.Cut(text, " ")
	op = strings.ToUpper(op)
	name := op
	if tx.Statement.Table != "" {
		name += " " + tx.Statement.Table
		span.SetAttributes(attribute.String("db.collection.name", tx.Statement.Table))
	}
	span.SetName(name)
	span.SetAttributes(attribute.String("db.query.text", text), attribute.String("db.operation.name", op))
	if tx.Statement.RowsAffected >= 0 {
		span.SetAttributes(attribute.Int64("db.response.returned_rows", tx.Statement.RowsAffected))
	}
	if err := tx.Error; err != nil && err != gorm.ErrRecordNotFound {
		span.SetStatus(codes.Error, safeError(err))
	}
}

// traceStatements gives gdb's statements spans from tp; without tp it adds nothing.
func traceStatements(gdb *gorm.DB, tp trace.TracerProvider, d dialect) error {
	if tp == nil {
		return nil
	}
	system := "postgresql"
	if d == dialectSQLite {
		system = "sqlite"
	}
	return gdb.Use(statementSpans{tracer: tp.Tracer("github.com/portfolio-graph/portfolio-graph/db"), system: system})
}
