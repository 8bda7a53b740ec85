package feed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize/english"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// Problem is one reason a customer was not loaded, at a JSON path into the file: into the
// document (customers[12345].country), or in NDJSON, a path into the customer on a line of the
// file (Line 12346, Path country).
type Problem struct {
	// Line is the line of the file on which the problem's customer starts, in NDJSON; 0 in a
	// document, and for a problem of a whole batch (Path customers).
	Line    int `json:"-"`
	Path    string
	Code    string
	Message string
}

// String is "customers[3].country CODE: message" in a document, "line 4: country CODE:
// message" in NDJSON.
func (p Problem) String() string {
	s := p.Code + ": " + p.Message
	if p.Path != "" {
		s = p.Path + " " + s
	}
	if p.Line > 0 {
		s = "line " + strconv.Itoa(p.Line) + ": " + s
	}
	return s
}

// ErrNoCustomers is the error of a load whose input holds no customer at all (an empty file,
// blank lines, an empty customers list): most likely the output of a step that failed.
var ErrNoCustomers = errors.New("the input holds no customers (an empty file is most likely the output of a step that failed)")

// BatchResult is what ingesting one batch did. Problems carry paths relative to the batch
// (customers[0] is the batch's first customer). A batch with problems was rejected whole,
// unless its invalid customers were skipped (Summary.SkippedCustomers).
type BatchResult struct {
	Summary  models.IngestSummary
	Problems []Problem
	Refused  bool
}

func (r *BatchResult) rejected() bool { return len(r.Problems) > 0 && r.Summary.SkippedCustomers == 0 }

// BatchOptions are the ingest options of one batch.
type BatchOptions struct {
	SkipInvalid, DryRun bool
	// Inputs are the batch's customers as Options.Decode made them, when it took every one of
	// them; else nil.
	Inputs []*models.CustomerInput
}

// IngestFunc ingests one batch of raw customers. An error means the load cannot go on (the
// database is down); a batch the rules reject is a result with problems, and a batch refused
// as a whole for values the schema's types cannot take (an unknown enum value, a date without
// an offset) is a result with Refused set and the first such problem.
type IngestFunc func(ctx context.Context, customers []json.RawMessage, opt BatchOptions) (*BatchResult, error)

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
	// SkipInvalid loads the valid customers of each batch and lists the others, instead of
	// rejecting a batch with any problem.
	SkipInvalid bool
	// Parallel is how many batches may be in flight at once (default 2).
	Parallel int
	// Decode, when set, decodes each customer as it is read from the file, in file order (it
	// need not be safe for concurrent use), or reports false for a customer of a shape it does
	// not take. A batch whose customers all decoded reaches the IngestFunc with them
	// (BatchOptions.Inputs), and its keys are read from them instead of from its JSON.
	Decode func(raw []byte) (*models.CustomerInput, bool)
}

// Totals add up a load.
type Totals struct {
	Customers, Accounts, Cards models.WriteCounts
	Skipped                    int
	Read                       int // customers read from the file
	Batches, RejectedBatches   int
	// Problems are at places in the whole file: customers[12345].country in a document, line
	// 12346 in NDJSON.
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
// the file or when ingest fails; the totals so far are returned with the error. An input with
// no customer at all is ErrNoCustomers.
//
// Up to opt.Parallel batches are in flight at once, so that reading and validating one overlaps
// writing another, but never two that share a customer or an account: a batch waits for any
// earlier one it shares a key with, so every key is written in file order, and the outcome is
// that of loading the batches one after the other. Results are counted in file order.
func Load(ctx context.Context, r io.Reader, ingest IngestFunc, opt Options) (*Totals, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 1000
	}
	if opt.MaxProblems <= 0 {
		opt.MaxProblems = 10000
	}
	if opt.Parallel <= 0 {
		opt.Parallel = 2
	}
	t := &Totals{}
	counted := &countingReader{r: r}
	rd, err := NewReader(counted)
	if err != nil {
		return t, atPosition(r, rd, err)
	}
	if opt.Decode != nil {
		rd.SetDecoder(opt.Decode)
	}
	prog := newProgress(opt.Progress, opt.Name, size(r))
	defer prog.finish(t, counted)

	var queue []*inflight // in file order
	var failed error
	// settle waits for the oldest batch in flight and counts its result.
	settle := func() {
		b := queue[0]
		queue = queue[1:]
		<-b.done
		if b.err != nil {
			if failed == nil {
				failed = fmt.Errorf("customers %d-%d: %w", b.offset, b.offset+len(b.customers)-1, b.err)
			}
			return
		}
		t.Batches++
		t.add(b.res.Summary)
		if b.res.rejected() {
			t.RejectedBatches++
		}
		for _, p := range b.res.Problems {
			t.ProblemsCount++
			if len(t.Problems) < opt.MaxProblems {
				t.Problems = append(t.Problems, b.place(p))
			}
		}
		prog.update(t, counted.n)
	}
	drain := func() error {
		for len(queue) > 0 {
			settle()
		}
		return failed
	}
	batch := make([]json.RawMessage, 0, opt.BatchSize)
	inputs := make([]*models.CustomerInput, 0, opt.BatchSize)
	var lines []int // of the batch's customers, in NDJSON
	flush := func() error {
		if len(batch) == 0 {
			return failed
		}
		b := &inflight{customers: batch, offset: t.Read - len(batch), lines: lines, keys: batchKeys(batch, inputs), done: make(chan struct{})}
		if !slices.Contains(inputs, nil) {
			b.inputs = inputs
		}
		batch = make([]json.RawMessage, 0, opt.BatchSize)
		inputs = make([]*models.CustomerInput, 0, opt.BatchSize)
		lines = nil
		for len(queue) > 0 && (len(queue) >= opt.Parallel || b.sharesKeys(queue)) {
			settle()
		}
		if failed != nil {
			return failed
		}
		queue = append(queue, b)
		go func() {
			defer close(b.done)
			b.res, b.err = ingestBatch(ctx, ingest, b.customers, b.inputs, opt.SkipInvalid)
		}()
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			_ = drain()
			return t, err
		}
		raw, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ferr := flush(); ferr != nil {
				_ = drain()
				return t, ferr
			}
			if ferr := drain(); ferr != nil {
				return t, ferr
			}
			return t, atPosition(r, rd, err)
		}
		batch = append(batch, raw)
		inputs = append(inputs, rd.Decoded())
		if line := rd.Line(); line > 0 {
			lines = append(lines, line)
		}
		t.Read++
		if len(batch) == opt.BatchSize {
			if err := flush(); err != nil {
				_ = drain()
				return t, err
			}
		}
	}
	if err := flush(); err != nil {
		_ = drain()
		return t, err
	}
	if err := drain(); err != nil {
		return t, err
	}
	if t.Read == 0 {
		return t, ErrNoCustomers
	}
	return t, nil
}

// inflight is a batch being ingested.
type inflight struct {
	customers []json.RawMessage
	inputs    []*models.CustomerInput // decoded (Options.Decode), or nil
	offset    int                     // index in the file of its first customer
	lines     []int                   // the line of each customer, in NDJSON; else nil
	keys      map[string]bool         // its customers' and accounts' ids
	done      chan struct{}           // closed when res or err is set
	res       *BatchResult
	err       error
}

func (b *inflight) sharesKeys(others []*inflight) bool {
	for _, o := range others {
		small, large := b.keys, o.keys
		if len(small) > len(large) {
			small, large = large, small
		}
		for k := range small {
			if large[k] {
				return true
			}
		}
	}
	return false
}

// batchKeys are the customer and account ids a batch names (a customer it cannot read names
// nothing: the batch's ingest reports it), read from the decoded customer where there is one
// (inputs[i], when inputs is not empty).
func batchKeys(batch []json.RawMessage, inputs []*models.CustomerInput) map[string]bool {
	keys := make(map[string]bool, 2*len(batch))
	dec := jsontext.NewDecoder(bytes.NewReader(nil))
	for i, raw := range batch {
		if i < len(inputs) && inputs[i] != nil {
			inputKeys(inputs[i], keys)
			continue
		}
		if customerKeys(dec, raw, keys) {
			continue
		}
		var c struct {
			SourceCustomerID string `json:"sourceCustomerId"`
			Accounts         []struct {
				SourceAccountID string `json:"sourceAccountId"`
			} `json:"accounts"`
		}
		_ = json.Unmarshal(raw, &c)
		keys["c\x00"+c.SourceCustomerID] = true
		for _, a := range c.Accounts {
			keys["a\x00"+a.SourceAccountID] = true
		}
	}
	return keys
}

// inputKeys adds the ids of a decoded customer to keys, as batchKeys reads them from its JSON
// (an id not given is "").
func inputKeys(c *models.CustomerInput, keys map[string]bool) {
	keys["c\x00"+deref(c.SourceCustomerID)] = true
	for _, a := range c.Accounts {
		if a != nil {
			keys["a\x00"+deref(a.SourceAccountID)] = true
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// customerKeys adds the ids of a customer of the plain shape (its id and its accounts' ids
// given once each, as unescaped strings) to keys, skipping everything else without decoding
// it, and reports false, adding nothing, for any other customer: json.Unmarshal reads those.
func customerKeys(dec *jsontext.Decoder, raw []byte, keys map[string]bool) bool {
	dec.Reset(bytes.NewReader(raw), jsontext.AllowDuplicateNames(false))
	var found []string
	str := func() (string, bool) {
		v, err := dec.ReadValue()
		if err != nil || len(v) < 2 || v[0] != '"' || bytes.IndexByte(v, '\\') >= 0 {
			return "", false
		}
		return string(v[1 : len(v)-1]), true
	}
	// members reads an object, calling member with each key; member reads the value.
	members := func(member func(key string) bool) bool {
		if t, err := dec.ReadToken(); err != nil || t.Kind() != '{' {
			return false
		}
		for dec.PeekKind() != '}' {
			key, ok := str()
			if !ok || !member(key) {
				return false
			}
		}
		_, err := dec.ReadToken()
		return err == nil
	}
	skip := func() bool { return dec.SkipValue() == nil }
	ok := members(func(key string) bool {
		switch key {
		case "sourceCustomerId":
			id, ok := str()
			found = append(found, "c\x00"+id)
			return ok
		case "accounts":
			if t, err := dec.ReadToken(); err != nil || t.Kind() != '[' {
				return false
			}
			for dec.PeekKind() == '{' {
				if !members(func(key string) bool {
					if key != "sourceAccountId" {
						return skip()
					}
					id, ok := str()
					found = append(found, "a\x00"+id)
					return ok
				}) {
					return false
				}
			}
			_, err := dec.ReadToken()
			return err == nil
		}
		return skip()
	})
	if !ok || len(found) == 0 || found[0][0] != 'c' {
		return false
	}
	for _, k := range found {
		keys[k] = true
	}
	return true
}

var (
	batchIndex = regexp.MustCompile(`\bcustomers\[(\d+)\]`)
	// customerPath is a path into a batch: a customer's index, and the path inside it.
	customerPath = regexp.MustCompile(`\bcustomers\[(\d+)\]((?:\.\w+|\[\d+\])*)`)
)

// place turns a problem of the batch into one of the file. In a document, a path (alone or
// inside the message) counts from the file's first customer: customers[1003].country. In
// NDJSON the problem is on the line of its customer (Line), its path is inside that customer
// (country), and a path in its message names its line too (accounts[0] on line 12).
func (b *inflight) place(p Problem) Problem {
	if len(b.lines) != len(b.customers) {
		p.Path, p.Message = shift(p.Path, b.offset), shift(p.Message, b.offset)
		return p
	}
	line := func(m []string) (int, bool) {
		k, err := strconv.Atoi(m[1])
		if err != nil || k >= len(b.lines) {
			return 0, false
		}
		return b.lines[k], true
	}
	if m := customerPath.FindStringSubmatch(p.Path); m != nil && m[0] == p.Path {
		if n, ok := line(m); ok {
			p.Line, p.Path = n, strings.TrimPrefix(m[2], ".")
		}
	}
	p.Message = customerPath.ReplaceAllStringFunc(p.Message, func(s string) string {
		m := customerPath.FindStringSubmatch(s)
		n, ok := line(m)
		switch {
		case !ok:
			return shift(s, b.offset)
		case m[2] == "":
			return "line " + strconv.Itoa(n)
		}
		return strings.TrimPrefix(m[2], ".") + " on line " + strconv.Itoa(n)
	})
	return p
}

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
	fmt.Fprintf(w, "  read %s in %s; %s rejected, %s skipped\n", english.Plural(t.Read, "customer", ""), english.Plural(t.Batches, "batch", ""),
		english.Plural(t.RejectedBatches, "batch", ""), english.Plural(t.Skipped, "customer", ""))
	if t.ProblemsCount == 0 {
		return
	}
	fmt.Fprintf(w, "  %s (a rejected batch writes nothing; a skipped customer is not written):\n", english.Plural(t.ProblemsCount, "problem", ""))
	for _, p := range t.Problems {
		fmt.Fprintf(w, "    %s\n", p)
	}
	if n := t.ProblemsCount - len(t.Problems); n > 0 {
		fmt.Fprintf(w, "    ... and %d more\n", n)
	}
}

// ingestBatch ingests one batch. When the batch is refused as a whole for a value the schema's
// types cannot take, each customer is tried alone (a dry run) to find every customer with
// such a value; the others then load (skipInvalid) or are checked for their own problems, so
// every problem of the batch is listed, each at its customer.
func ingestBatch(ctx context.Context, ingest IngestFunc, batch []json.RawMessage, inputs []*models.CustomerInput, skipInvalid bool) (*BatchResult, error) {
	res, err := ingest(ctx, batch, BatchOptions{SkipInvalid: skipInvalid, Inputs: inputs})
	if err != nil || !res.Refused {
		return res, err
	}
	var problems []Problem
	var rest []json.RawMessage
	var restIndex []int
	for i, c := range batch {
		one, err := ingest(ctx, batch[i:i+1], BatchOptions{DryRun: true})
		if err != nil {
			return nil, err
		}
		if !one.Refused {
			rest, restIndex = append(rest, c), append(restIndex, i)
			continue
		}
		for _, p := range one.Problems {
			problems = append(problems, reindex(p, []int{i}))
		}
	}
	out := &BatchResult{Summary: emptySummary()}
	if len(rest) > 0 {
		// Without skipInvalid the batch is rejected anyway: a dry run lists the others' problems.
		again, err := ingest(ctx, rest, BatchOptions{SkipInvalid: skipInvalid, DryRun: !skipInvalid})
		if err != nil {
			return nil, err
		}
		if skipInvalid && !again.Refused {
			out.Summary = again.Summary
		}
		for _, p := range again.Problems {
			problems = append(problems, reindex(p, restIndex))
		}
	}
	if skipInvalid {
		out.Summary.SkippedCustomers += len(batch) - len(rest)
	}
	sort.SliceStable(problems, func(i, j int) bool { return customerIndex(problems[i].Path) < customerIndex(problems[j].Path) })
	out.Problems = problems
	return out, nil
}

func emptySummary() models.IngestSummary {
	return models.IngestSummary{Customers: &models.WriteCounts{}, Accounts: &models.WriteCounts{}, Cards: &models.WriteCounts{}}
}

// reindex turns a problem of a sub-batch into one of the batch: customers[k] becomes
// customers[index[k]], in the path and in the message.
func reindex(p Problem, index []int) Problem {
	re := func(s string) string {
		return batchIndex.ReplaceAllStringFunc(s, func(m string) string {
			k, err := strconv.Atoi(m[len("customers[") : len(m)-1])
			if err != nil || k >= len(index) {
				return m
			}
			return "customers[" + strconv.Itoa(index[k]) + "]"
		})
	}
	p.Path, p.Message = re(p.Path), re(p.Message)
	return p
}

func customerIndex(path string) int {
	m := batchIndex.FindStringSubmatch(path)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
