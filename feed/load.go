package feed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// Problem is one reason a customer was not loaded, at a JSON path into the file.
type Problem struct {
	Path    string
	Code    string
	Message string
}

func (p Problem) String() string { return p.Path + " " + p.Code + ": " + p.Message }

// BatchResult is what ingesting one batch did. Problems carry paths relative to the batch
// (customers[0] is the batch's first customer). A batch with problems was rejected whole,
// unless its invalid customers were skipped (Summary.SkippedCustomers).
type BatchResult struct {
	Summary  models.IngestSummary
	Problems []Problem
}

func (r *BatchResult) rejected() bool { return len(r.Problems) > 0 && r.Summary.SkippedCustomers == 0 }

// IngestFunc ingests one batch of raw customers. An error means the load cannot go on (the
// database is down); a batch the rules reject is a result with problems.
type IngestFunc func(ctx context.Context, customers []json.RawMessage) (*BatchResult, error)

// Options tune a load.
type Options struct {
	// BatchSize is the number of customers per batch (default 1,000).
	BatchSize int
	// Progress, when a terminal, shows a running count.
	Progress io.Writer
	// Name is the file's name in progress lines.
	Name string
	// MaxProblems bounds how many problems are kept (default 10,000); all are counted.
	MaxProblems int
}

// Totals add up a load.
type Totals struct {
	Customers, Accounts, Cards models.WriteCounts
	Skipped                    int
	Read                       int // customers read from the file
	Batches, RejectedBatches   int
	// Problems have paths into the whole file: customers[12345].country.
	Problems      []Problem
	ProblemsCount int
}

func (t *Totals) add(s models.IngestSummary) {
	for _, p := range []struct{ to, from *models.WriteCounts }{{&t.Customers, s.Customers}, {&t.Accounts, s.Accounts}, {&t.Cards, s.Cards}} {
		if p.from != nil {
			p.to.Created += p.from.Created
			p.to.Updated += p.from.Updated
			p.to.Unchanged += p.from.Unchanged
			p.to.Deleted += p.from.Deleted
		}
	}
	t.Skipped += s.SkippedCustomers
}

// Load reads customers from r and ingests them in batches. A rejected batch does not stop the
// load: its problems are collected and the next batch goes on. Load stops at a syntax error in
// the file or when ingest fails; the totals so far are returned with the error.
func Load(ctx context.Context, r io.Reader, ingest IngestFunc, opt Options) (*Totals, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 1000
	}
	if opt.MaxProblems <= 0 {
		opt.MaxProblems = 10000
	}
	t := &Totals{}
	rd, err := NewReader(r)
	if err != nil {
		return t, err
	}
	prog := newProgress(opt.Progress, opt.Name)
	defer prog.finish(t)
	batch := make([]json.RawMessage, 0, opt.BatchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := ingest(ctx, batch)
		if err != nil {
			return fmt.Errorf("customers %d-%d: %w", t.Read-len(batch), t.Read-1, err)
		}
		t.Batches++
		t.add(res.Summary)
		if res.rejected() {
			t.RejectedBatches++
		}
		for _, p := range res.Problems {
			t.ProblemsCount++
			if len(t.Problems) < opt.MaxProblems {
				p.Path = shift(p.Path, t.Read-len(batch))
				p.Message = shift(p.Message, t.Read-len(batch))
				t.Problems = append(t.Problems, p)
			}
		}
		batch = batch[:0]
		prog.update(t)
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return t, err
		}
		raw, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ferr := flush(); ferr != nil {
				return t, ferr
			}
			return t, err
		}
		batch = append(batch, raw)
		t.Read++
		if len(batch) == opt.BatchSize {
			if err := flush(); err != nil {
				return t, err
			}
		}
	}
	return t, flush()
}

var batchIndex = regexp.MustCompile(`\bcustomers\[(\d+)\]`)

// shift turns paths relative to a batch (customers[3].country), alone or inside a message,
// into paths relative to the file (customers[1003].country).
func shift(s string, offset int) string {
	return batchIndex.ReplaceAllStringFunc(s, func(m string) string {
		i, err := strconv.Atoi(m[len("customers[") : len(m)-1])
		if err != nil {
			return m
		}
		return "customers[" + strconv.Itoa(i+offset) + "]"
	})
}

// WriteSummary prints the totals and every kept problem.
func (t *Totals) WriteSummary(w io.Writer) {
	row := func(name string, c models.WriteCounts) {
		fmt.Fprintf(w, "  %-10s created %d, updated %d, unchanged %d", name+":", c.Created, c.Updated, c.Unchanged)
		if c.Deleted > 0 {
			fmt.Fprintf(w, ", deleted %d", c.Deleted)
		}
		fmt.Fprintln(w)
	}
	row("customers", t.Customers)
	row("accounts", t.Accounts)
	row("cards", t.Cards)
	fmt.Fprintf(w, "  read %d customers in %d batches; %d batches rejected, %d customers skipped\n", t.Read, t.Batches, t.RejectedBatches, t.Skipped)
	if t.ProblemsCount == 0 {
		return
	}
	fmt.Fprintf(w, "  %d problems (a rejected batch writes nothing; a skipped customer is not written):\n", t.ProblemsCount)
	for _, p := range t.Problems {
		fmt.Fprintf(w, "    %s\n", p)
	}
	if n := t.ProblemsCount - len(t.Problems); n > 0 {
		fmt.Fprintf(w, "    ... and %d more\n", n)
	}
}

// progress shows a running count on a terminal, at most a few times a second.
type progress struct {
	w     io.Writer
	name  string
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, name string) *progress {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return &progress{w: w, name: name, start: time.Now()}
}

func (p *progress) update(t *Totals) {
	if p == nil || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	rate := float64(t.Read) / max(time.Since(p.start).Seconds(), 1e-3)
	fmt.Fprintf(p.w, "\r%s: %d customers, %d batches, %d rejected (%.0f/s)   ", p.name, t.Read, t.Batches, t.RejectedBatches, rate)
}

func (p *progress) finish(t *Totals) {
	if p == nil {
		return
	}
	p.last = time.Time{}
	p.update(t)
	fmt.Fprintln(p.w)
}
