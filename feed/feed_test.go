package feed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portfolio-graph/portfolio-graph/models"
)

func readAll(t *testing.T, in string) ([]string, error) {
	t.Helper()
	ids, _, _, err := readAllWith(t, in, nil)
	return ids, err
}

// readAllWith reads every customer of in, and the line each starts on (Reader.Line), with
// decode as the reader's decoder (none when nil), and checks that each customer it returns is
// the one its decoding made, when it did.
func readAllWith(t *testing.T, in string, decode func([]byte) (*models.CustomerInput, bool)) (ids []string, lines []int, decoded int, err error) {
	t.Helper()
	r, err := NewReader(strings.NewReader(in))
	if err != nil {
		return nil, nil, 0, err
	}
	if decode != nil {
		r.SetDecoder(decode)
	}
	for {
		raw, err := r.Next()
		if errors.Is(err, io.EOF) {
			return ids, lines, decoded, nil
		}
		if err != nil {
			return ids, lines, decoded, err
		}
		var v struct{ ID string }
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		if c := r.Decoded(); c != nil {
			decoded++
			if *c.SourceCustomerID != v.ID {
				t.Errorf("customer %s came with the decoding of %s", v.ID, *c.SourceCustomerID)
			}
		}
		ids, lines = append(ids, v.ID), append(lines, r.Line())
	}
}

// idDecoder takes objects of one key, "id", as a customer of that sourceCustomerId.
func idDecoder(raw []byte) (*models.CustomerInput, bool) {
	var v struct{ ID *string }
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&v); err != nil || v.ID == nil || d.More() {
		return nil, false
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, false
	}
	return &models.CustomerInput{SourceCustomerID: v.ID}, true
}

// Both shapes of the publisher's file, and a bare array, yield the same customers.
func TestReaderShapes(t *testing.T) {
	// The line of each customer (NDJSON) or none (0: a document or an array).
	lines := map[string]string{
		"ndjson": "[1 2]", "ndjson without final newline": "[1 3]", "ndjson, one across lines": "[1 3]",
		"ndjson, two on a line": "[1 1]", "ndjson, a string with \\n": "[1 2]",
	}
	cases := map[string]string{
		"document":                     `{"customers": [{"id": "a"}, {"id": "b", "accounts": [{"x": 1}]}]}`,
		"document, other key first":    `{"version": {"n": [1, 2]}, "customers": [{"id": "a"}, {"id": "b"}], "trailer": 1}`,
		"ndjson":                       "{\"id\": \"a\"}\n{\"id\": \"b\", \"customers\": []}\n",
		"ndjson without final newline": "{\"id\": \"a\"}\r\n\r\n{\"id\": \"b\"}",
		"array":                        ` [{"id": "a"}, {"id": "b"}]`,
		"ndjson, one across lines":     "{\"id\": \"a\"}\n\n{\"id\":\n \"b\"}\n",
		"ndjson, two on a line":        " {\"id\": \"a\"} {\"id\": \"b\"}\n",
		"ndjson, a string with \\n":    "{\"id\": \"a\", \"x\": \"1\\n2\"}\n\t{\"id\": \"b\"}  \n\n",
		"document with BOM":            "\ufeff{\"customers\": [{\"id\": \"a\"}, {\"id\": \"b\"}]}",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			wantLines := lines[name]
			if wantLines == "" {
				wantLines = "[0 0]"
			}
			got, at, _, err := readAllWith(t, in, nil)
			if err != nil || fmt.Sprint(got) != "[a b]" || fmt.Sprint(at) != wantLines {
				t.Errorf("got %v on lines %v, %v; want [a b] on lines %s", got, at, err, wantLines)
			}
			// With a decoder, the same customers, each decoded but for one customer in three
			// cases, which has a key other than "id".
			got, at, decoded, err := readAllWith(t, in, idDecoder)
			want := 2
			if name == "document" || name == "ndjson" || name == "ndjson, a string with \\n" {
				want = 1
			}
			if err != nil || fmt.Sprint(got) != "[a b]" || decoded != want || fmt.Sprint(at) != wantLines {
				t.Errorf("with a decoder: got %v on lines %v, %v, %d decoded; want [a b] on lines %s, %d decoded", got, at, err, decoded, wantLines, want)
			}
		})
	}
	for name, in := range map[string]string{"empty": "", "blank": " \n", "empty document": `{"customers": []}`} {
		t.Run(name, func(t *testing.T) {
			if got, err := readAll(t, in); err != nil || len(got) != 0 {
				t.Errorf("got %v, %v; want nothing", got, err)
			}
		})
	}
}

// Broken files fail with an error that says where.
func TestReaderErrors(t *testing.T) {
	for name, in := range map[string]string{
		"truncated document": `{"customers": [{"id": "a"}, {"id": `,
		"not an object":      "{\"id\": \"a\"}\n42\n",
		"bad ndjson line":    "{\"id\": \"a\"}\n{\"id\": }\n",
		"customers not list": `{"customers": {"id": "a"}}`,
		"trailing text":      "{\"id\": \"a\"}\n{\"id\": \"b\"} x\n",
	} {
		t.Run(name, func(t *testing.T) {
			for _, decode := range []func([]byte) (*models.CustomerInput, bool){nil, idDecoder} {
				got, _, _, err := readAllWith(t, in, decode)
				if err == nil {
					t.Fatalf("no error; read %v", got)
				}
				at := "customer 2"
				if name == "trailing text" {
					at = "customer 3" // the x after b
				}
				if name != "customers not list" && !strings.Contains(err.Error(), at) {
					t.Errorf("error %q does not say which customer", err)
				}
			}
		})
	}
}

// A document streams: the first customer comes out while most of the file is still unwritten.
// The writer holds back everything after its first 2,000 customers (past the reader's 64 KiB
// look-ahead) until the reader has returned the first one; a reader that wanted the whole file
// first would never get it.
func TestReaderStreams(t *testing.T) {
	const total, head = 100000, 2000
	pr, pw := io.Pipe()
	firstRead := make(chan struct{})
	go func() {
		io.WriteString(pw, `{"customers": [`)
		for i := range total {
			if i == head {
				select {
				case <-firstRead:
				case <-time.After(10 * time.Second):
					pw.CloseWithError(errors.New("the reader did not return a customer before the whole file was written"))
					return
				}
			}
			if i > 0 {
				io.WriteString(pw, ",")
			}
			fmt.Fprintf(pw, `{"id": "%d", "pad": "%s"}`, i, strings.Repeat("x", 100))
		}
		io.WriteString(pw, `]}`)
		pw.Close()
	}()
	r, err := NewReader(pr)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 1 {
			close(firstRead)
		}
	}
	if n != total {
		t.Errorf("read %d customers, want %d", n, total)
	}
}

// Load batches the file, adds up the summaries, keeps going after a rejected batch and reports
// its problems at their places in the whole file: a path from the file's first customer in a
// document, the customer's line in NDJSON (also past a customer across lines, which the
// reader's decoder reads), with the path inside the customer.
func TestLoad(t *testing.T) {
	var nd, doc bytes.Buffer
	nd.WriteString("\n") // customer i on line i+2
	doc.WriteString(`{"customers": [`)
	for i := range 25 {
		if i == 5 {
			nd.WriteString("{\"n\":\n 5}\n") // from here on, customer i on line i+3
		} else {
			fmt.Fprintf(&nd, "{\"n\": %d}\n", i)
		}
		if i > 0 {
			doc.WriteString(",\n")
		}
		fmt.Fprintf(&doc, `{"n": %d}`, i)
	}
	doc.WriteString("]}")
	for _, c := range []struct {
		name        string
		in          *bytes.Buffer
		line        int
		path, lines string
	}{
		{"ndjson", &nd, 16, "country", "line 16: country INVALID_VALUE: as at accounts[0] on line 14, not line 14"},
		{"document", &doc, 0, "customers[13].country", "customers[13].country INVALID_VALUE: as at customers[11].accounts[0], not customers[11]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var sizes []int
			ingest := func(ctx context.Context, batch []json.RawMessage, _ BatchOptions) (*BatchResult, error) {
				sizes = append(sizes, len(batch))
				if len(sizes) == 2 {
					return &BatchResult{Problems: []Problem{{Path: "customers[3].country", Code: "INVALID_VALUE", Message: "as at customers[1].accounts[0], not customers[1]"},
						{Path: "customers", Code: "LIMIT_EXCEEDED", Message: "x"}}}, nil
				}
				s := models.IngestSummary{Customers: &models.WriteCounts{Created: len(batch)}, Accounts: &models.WriteCounts{Updated: 1}, Cards: &models.WriteCounts{Unchanged: 2}}
				return &BatchResult{Summary: s}, nil
			}
			tot, err := Load(context.Background(), c.in, ingest, Options{BatchSize: 10})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(sizes) != "[10 10 5]" || tot.Read != 25 || tot.Batches != 3 || tot.RejectedBatches != 1 {
				t.Errorf("batches %v, totals %+v", sizes, tot)
			}
			if tot.Customers.Created != 15 || tot.Accounts.Updated != 2 || tot.Cards.Unchanged != 4 {
				t.Errorf("sums: %+v", tot)
			}
			if tot.ProblemsCount != 2 || tot.Problems[0].Line != c.line || tot.Problems[0].Path != c.path ||
				tot.Problems[1].Line != 0 || tot.Problems[1].Path != "customers" {
				t.Errorf("problems: %+v", tot.Problems)
			}
			var out bytes.Buffer
			tot.WriteSummary(&out)
			for _, want := range []string{"created 15", "read 25 customers in 3 batches; 1 batch rejected, 0 customers skipped", "2 problems (", c.lines,
				"    customers LIMIT_EXCEEDED: x\n"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("summary lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// The summary counts in words that agree with the numbers: 1 customer, 2 customers.
func TestSummaryPlurals(t *testing.T) {
	var out bytes.Buffer
	(&Totals{Read: 1, Batches: 1, RejectedBatches: 1, Skipped: 1, ProblemsCount: 1, Problems: []Problem{{Line: 1, Path: "country", Code: "INVALID_VALUE", Message: "x"}}}).WriteSummary(&out)
	for _, want := range []string{"read 1 customer in 1 batch; 1 batch rejected, 1 customer skipped\n", "  1 problem (", "    line 1: country INVALID_VALUE: x\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	(&Totals{Read: 12345, Batches: 13, RejectedBatches: 2, Skipped: 3}).WriteSummary(&out)
	if want := "read 12,345 customers in 13 batches; 2 batches rejected, 3 customers skipped\n"; !strings.Contains(out.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, out.String())
	}
	p := &progress{name: "f.ndjson", size: -1, start: time.Now()}
	if got := p.line(&Totals{Read: 1, Batches: 1}, 0); !strings.HasPrefix(got, "f.ndjson: 1 customer, 1 batch (0 rejected), ") {
		t.Errorf("progress line: %q", got)
	}
}

// An input that holds no customer is ErrNoCustomers, in every shape, and ingests nothing.
func TestLoadNothing(t *testing.T) {
	for name, in := range map[string]string{"empty": "", "blank lines": " \n\n", "empty document": `{"customers": []}`, "empty array": "[]"} {
		t.Run(name, func(t *testing.T) {
			called := false
			tot, err := Load(context.Background(), strings.NewReader(in), func(context.Context, []json.RawMessage, BatchOptions) (*BatchResult, error) {
				called = true
				return &BatchResult{}, nil
			}, Options{})
			if !errors.Is(err, ErrNoCustomers) || tot == nil || tot.Read != 0 || called {
				t.Errorf("got %+v, %v (ingest called: %v); want ErrNoCustomers", tot, err, called)
			}
		})
	}
}

// A batch whose invalid customers were skipped is not rejected; its problems are still listed.
func TestLoadSkipped(t *testing.T) {
	tot, err := Load(context.Background(), strings.NewReader("{}\n{}\n"), func(context.Context, []json.RawMessage, BatchOptions) (*BatchResult, error) {
		return &BatchResult{Summary: models.IngestSummary{SkippedCustomers: 1, Customers: &models.WriteCounts{Created: 1}},
			Problems: []Problem{{Path: "customers[1].country", Code: "INVALID_VALUE", Message: "x"}}}, nil
	}, Options{})
	if err != nil || tot.RejectedBatches != 0 || tot.Skipped != 1 || tot.ProblemsCount != 1 || tot.Customers.Created != 1 {
		t.Errorf("got %+v, %v", tot, err)
	}
}

// A failing ingest stops the load with the position of the batch.
func TestLoadStopsOnIngestFailure(t *testing.T) {
	in := strings.Repeat("{}\n", 5)
	_, err := Load(context.Background(), strings.NewReader(in), func(context.Context, []json.RawMessage, BatchOptions) (*BatchResult, error) {
		return nil, errors.New("database unavailable")
	}, Options{BatchSize: 2})
	if err == nil || !strings.Contains(err.Error(), "customers 0-1: database unavailable") {
		t.Errorf("got %v", err)
	}
}

// The demo portfolio breaks no rule, is the same for the same seed, and has joint accounts
// and sub-customers.
func TestDemoIsValidAndDeterministic(t *testing.T) {
	a, b := Demo(1000, 1), Demo(1000, 1)
	problems, _ := models.ValidateCustomers(a)
	if len(problems) > 0 {
		t.Fatalf("demo breaks rules: %+v", problems[:min(5, len(problems))])
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Error("same seed, different portfolio")
	}
	rows := models.BuildRows(a, func(int) bool { return true })
	joint, children := 0, 0
	for _, acc := range rows.Accounts {
		if len(acc.SourceCustomerIDs) > 1 {
			joint++
		}
	}
	for _, c := range rows.Customers {
		if c.SourceParentCustomerID != nil {
			children++
		}
	}
	if len(rows.Customers) != 1000 || joint == 0 || children == 0 || len(rows.Cards) == 0 {
		t.Errorf("demo: %d customers, %d joint accounts, %d children, %d cards", len(rows.Customers), joint, children, len(rows.Cards))
	}
	// It encodes to the publisher's JSON with empty card lists kept.
	if bytes.Contains(ja, []byte(`"cards":null`)) {
		t.Error("an account encodes without its card list")
	}
}

// Batches are in flight together when they share no customer or account, never when they
// do, and results count in file order either way.
func TestLoadOverlapsOnlyDisjointBatches(t *testing.T) {
	line := func(c, a string) string {
		return fmt.Sprintf(`{"sourceCustomerId": %q, "accounts": [{"sourceAccountId": %q}]}`, c, a) + "\n"
	}
	// batches of 2: [C0 C1] [C2 C3] [C4 C5] [C6 C7], the last sharing C3's account A3
	in := line("C0", "A0") + line("C1", "A1") + line("C2", "A2") + line("C3", "A3") + line("C4", "A4") + line("C5", "A5") +
		line("C6", "A6") + line("C7", "A3")
	var mu sync.Mutex
	inFlight := map[string]bool{}
	var violations []string
	secondStarted := make(chan struct{})
	ingest := func(ctx context.Context, batch []json.RawMessage, _ BatchOptions) (*BatchResult, error) {
		var first struct{ SourceCustomerID string }
		_ = json.Unmarshal(batch[0], &first)
		id := first.SourceCustomerID
		mu.Lock()
		if id == "C6" && inFlight["C2"] {
			violations = append(violations, "[C6 C7] ran beside [C2 C3], which shares account A3")
		}
		inFlight[id] = true
		mu.Unlock()
		switch id {
		case "C0": // waits until the next, disjoint, batch runs beside it
			select {
			case <-secondStarted:
			case <-time.After(10 * time.Second):
				violations = append(violations, "[C2 C3] did not start while [C0 C1] was in flight")
			}
		case "C2": // stays in flight a while, so that [C6 C7] would start beside it if it could
			close(secondStarted)
			time.Sleep(200 * time.Millisecond)
		}
		mu.Lock()
		delete(inFlight, id)
		mu.Unlock()
		return &BatchResult{Summary: models.IngestSummary{Customers: &models.WriteCounts{Created: len(batch)}},
			Problems: []Problem{{Path: "customers[1].country", Code: "INVALID_VALUE", Message: "x"}}}, nil
	}
	tot, err := Load(context.Background(), strings.NewReader(in), ingest, Options{BatchSize: 2, Parallel: 3})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(violations) > 0 {
		t.Errorf("%v", violations)
	}
	var lines []string
	for _, p := range tot.Problems {
		lines = append(lines, p.String())
	}
	if got := strings.Join(lines, ", "); got != "line 2: country INVALID_VALUE: x, line 4: country INVALID_VALUE: x, line 6: country INVALID_VALUE: x, line 8: country INVALID_VALUE: x" {
		t.Errorf("problems out of file order: %s", got)
	}
	if tot.Customers.Created != 8 || tot.Batches != 4 {
		t.Errorf("totals: %+v", tot)
	}
}

// batchKeys reads the ids of a customer as encoding/json reads them, whatever the customer's
// shape: the plain shape without decoding, anything else through json.Unmarshal.
func TestBatchKeysMatchUnmarshal(t *testing.T) {
	reference := func(raw string) map[string]bool {
		var c struct {
			SourceCustomerID string `json:"sourceCustomerId"`
			Accounts         []struct {
				SourceAccountID string `json:"sourceAccountId"`
			} `json:"accounts"`
		}
		_ = json.Unmarshal([]byte(raw), &c)
		keys := map[string]bool{"c\x00" + c.SourceCustomerID: true}
		for _, a := range c.Accounts {
			keys["a\x00"+a.SourceAccountID] = true
		}
		return keys
	}
	decoded := 0
	for _, raw := range []string{
		`{"sourceCustomerId":"C1","country":"US","accounts":[{"sourceAccountId":"A1","cards":[{"sourceAccountId":"A9"}]},{"status":"OPEN","sourceAccountId":"A2"}]}`,
		`{"accounts":[{"sourceAccountId":"A1"}],"sourceCustomerId":"C1"}`,
		`{"sourceCustomerId":"C\u0031","accounts":[{"sourceAccountId":"A\"1"}]}`,
		`{"sourceCustomerId":"C1","sourceCustomerId":"C2","accounts":[]}`,
		`{"SourceCustomerId":"C1","accounts":null}`,
		`{"sourceCustomerId":"C1"}`,
		`{"country":"US"}`,
		`{"sourceCustomerId":7,"accounts":[{"sourceAccountId":"A1"}]}`,
		`{"sourceCustomerId":"C1","accounts":{"sourceAccountId":"A1"}}`,
		`{"sourceCustomerId":"C1","accounts":[{"sourceAccountId":"A1"},"x"]}`,
	} {
		want := reference(raw)
		if got := batchKeys([]json.RawMessage{json.RawMessage(raw)}, nil); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", raw, got, want)
		}
		// The keys of a customer decoded as it was read (Options.Decode) are the same.
		if c, ok := models.NewInputDecoder().Decode([]byte(raw)); ok {
			decoded++
			if got := batchKeys([]json.RawMessage{json.RawMessage(raw)}, []*models.CustomerInput{c}); !reflect.DeepEqual(got, want) {
				t.Errorf("%s decoded: got %v, want %v", raw, got, want)
			}
		}
	}
	if decoded < 4 {
		t.Errorf("only %d of the customers decoded; the decoded keys are hardly tested", decoded)
	}
}

// failOnce fails its first read and then ends.
type failOnce struct {
	err  error
	done bool
}

func (f *failOnce) Read([]byte) (int, error) {
	if f.done {
		return 0, io.EOF
	}
	f.done = true
	return 0, f.err
}

// A read that fails in the middle of an NDJSON file fails the reader, whatever the bytes
// before it: it is neither passed over nor read past.
func TestReaderReportsReadErrors(t *testing.T) {
	gone := errors.New("the disk went away")
	lines := strings.Repeat("{\"id\": \"a\"}\n", 20000) // past the reader's look-ahead
	for _, tail := range []string{`{"id": "b"`, ``, `{"id": "b"}`} {
		head := lines + tail
		// The read fails once; a retry would go on with what follows.
		r, err := NewReader(io.MultiReader(strings.NewReader(head), &failOnce{err: gone}, strings.NewReader("\n{\"id\": \"c\"}\n")))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			raw, err := r.Next()
			if err != nil {
				if !errors.Is(err, gone) {
					t.Errorf("%q: read %d customers, then %v; want the read's error", tail, len(got), err)
				}
				break
			}
			got = append(got, string(raw))
		}
	}
}
