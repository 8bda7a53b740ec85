package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/portfolio-graph/portfolio-graph/graph"
	"github.com/portfolio-graph/portfolio-graph/models"
)

// FuzzDirectExecutor compares the direct executor with gqlgen's generated one on random valid
// operations, as TestDirectExecutorMatchesGenerated does on a fixed list: every operation goes
// to two servers on the same database (directFixture), one of them with generatedReads, and
// both answers must have the same status and the same bytes.
//
// The fuzz input is the seed of a generator (fuzzGen) that writes fuzzOpsPerSeed operations
// from the server's schema: random fields of every type reachable from Query, aliases,
// fragments, directives, variables, arguments that find something or nothing, cursors of
// earlier pages, and some that fail (a page over the limit, a bad cursor or filter value).
// A plain `go test` runs the seed corpus below on each store; `go test -run '^$' -fuzz
// FuzzDirectExecutor` explores other seeds. DIRECT_FUZZ_SEED runs one seed alone and
// DIRECT_FUZZ_OPS changes the number of operations per seed.
func FuzzDirectExecutor(f *testing.F) {
	seeds := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	if s := os.Getenv("DIRECT_FUZZ_SEED"); s != "" {
		seeds = []int64{must(strconv.ParseInt(s, 10, 64))}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	ops := fuzzOpsPerSeed
	if s := os.Getenv("DIRECT_FUZZ_OPS"); s != "" {
		ops = must(strconv.Atoi(s))
	}
	targets := []*fuzzTarget{newFuzzTarget(f, "sqlite")}
	if os.Getenv("TEST_DATABASE_URL") != "" {
		targets = append(targets, newFuzzTarget(f, "postgres"))
	} else if os.Getenv("CI") == "true" {
		f.Fatal("TEST_DATABASE_URL is not set: under CI=true the PostgreSQL tests must run")
	}
	var total, direct int
	f.Cleanup(func() {
		// Most generated operations are ones the direct executor answers: a generator that
		// left everything to gqlgen would compare gqlgen with itself.
		if total >= 100 && direct*3 < total {
			f.Errorf("the direct executor answered %d of %d operations, want at least a third", direct, total)
		}
	})
	f.Fuzz(func(t *testing.T, seed int64) {
		for _, target := range targets {
			t.Run(target.e.kind, func(t *testing.T) {
				n, d := target.run(t, seed, ops)
				total, direct = total+n, direct+d
			})
		}
		if len(targets) == 1 {
			t.Run("postgres", func(t *testing.T) { t.Skip("TEST_DATABASE_URL not set") })
		}
	})
}

const (
	fuzzOpsPerSeed = 50
	fuzzMaxDepth   = 5     // the deepest field of a generated operation (the server allows 12)
	fuzzMaxCost    = 20000 // the server's complexity limit, which generated operations stay within
	fuzzMaxShown   = 3     // mismatches reported per seed and store
)

// fuzzTarget is a store with the fixture, a direct and a generated server, and what the
// generator picks its argument values from.
type fuzzTarget struct {
	e         *env
	generated string
	pool      *fuzzPool
	tokens    []string // an admin's, then a reader's of OA
}

func newFuzzTarget(tb testing.TB, kind string) *fuzzTarget {
	e := newEnv(tb, kind, withAuth)
	directFixture(tb, e)
	return &fuzzTarget{
		e:         e,
		generated: e.sibling(tb, func(c *config) { c.generatedReads = true }),
		pool:      harvest(tb, e),
		tokens:    []string{token(tb, "admin"), token(tb, "reader", "OA")},
	}
}

// run sends the operations of one seed to both servers and reports each mismatch with what
// reproduces it. It returns how many operations it sent and how many the direct executor
// answered.
func (x *fuzzTarget) run(t *testing.T, seed int64, n int) (sent, direct int) {
	g := newFuzzGen(seed, x.pool)
	executors := map[string]int{}
	mismatches, reordered := 0, 0
	for i := range n {
		op := g.next()
		role := "admin"
		if op.reader {
			role = "reader of OA"
		}
		req := obj{"query": op.doc, "variables": op.vars}
		if op.name != "" {
			req["operationName"] = op.name
		}
		body := jsonString(req)
		x.e.logs.Reset()
		wantStatus, want := postRaw(t, x.generated, x.tokens[btoi(op.reader)], body)
		gotStatus, got := postRaw(t, x.e.url, x.tokens[btoi(op.reader)], body)
		ran := strings.TrimPrefix(executorsLogged(x.e.logs.String()), "generated ")
		if ran == "" {
			ran = "none" // refused before either executor ran
		}
		executors[ran]++
		var answer gqlResponse
		if err := json.Unmarshal(want, &answer); err != nil {
			t.Fatalf("seed %d, operation %d: the answer is not JSON (status %d): %.300s", seed, i, wantStatus, want)
		}
		collectMessages(answer.Errors) // for TestMain's check of leaked internals
		if os.Getenv("DUMP") != "" {
			fmt.Printf("=== %d %s %d %s\n%s\n%s\n", i, ran, wantStatus, role, op.doc, jsonString(op.vars))
			fmt.Printf("--> %s\n", trimmed(want, 800))
		}
		if gotStatus == wantStatus && bytes.Equal(got, want) {
			continue
		}
		if gotStatus == wantStatus && sameButErrorOrder(got, want) {
			reordered++
			continue
		}
		mismatches++
		t.Errorf("seed %d, operation %d, %s, %s executor: the direct server's answer differs from the generated one's\n"+
			"operation (%d bytes):\n%s\noperationName: %q\nvariables: %s\n"+
			"direct    %d (%d bytes): %s\ngenerated %d (%d bytes): %s\nfirst difference at byte %d: direct …%s… generated …%s…\n%s",
			seed, i, role, ran, len(op.doc), op.doc, op.name, jsonString(op.vars),
			gotStatus, len(got), trimmed(got, 1500), wantStatus, len(want), trimmed(want, 1500),
			firstDiff(got, want), around(got, firstDiff(got, want)), around(want, firstDiff(got, want)),
			fmt.Sprintf("again: DIRECT_FUZZ_SEED=%d DIRECT_FUZZ_OPS=%d go test -run FuzzDirectExecutor", seed, i+1))
		if mismatches == fuzzMaxShown {
			t.Logf("stopping after %d mismatches", mismatches)
			break
		}
	}
	t.Logf("seed %d: %d operations, executors %v, %d answers alike but for the order of their errors", seed, n, executors, reordered)
	if executors["direct"] == 0 && n >= 10 {
		t.Errorf("seed %d: the direct executor answered none of %d operations", seed, n)
	}
	return n, executors["direct"]
}

// sameButErrorOrder tells whether two answers have the same data and extensions, byte for
// byte, and the same errors in another order. gqlgen resolves the root fields of a query
// concurrently and lists their errors as they come: two runs of the generated executor alone
// differ so when several root fields fail (a few requests in a hundred, for three of them).
// The direct executor leaves every failing operation to gqlgen, so it shares that order.
func sameButErrorOrder(a, b []byte) bool {
	type answer struct {
		Errors     []json.RawMessage
		Data       json.RawMessage
		Extensions json.RawMessage
	}
	var x, y answer
	if len(a) != len(b) || json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil || len(x.Errors) < 2 ||
		!bytes.Equal(x.Data, y.Data) || !bytes.Equal(x.Extensions, y.Extensions) {
		return false
	}
	order := func(l []json.RawMessage) []string {
		out := make([]string, len(l))
		for i, e := range l {
			out[i] = string(e)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(order(x.Errors), order(y.Errors))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func trimmed(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func around(b []byte, i int) string {
	return string(b[max(0, i-60):min(len(b), i+60)])
}

// fuzzPool is what the generator takes keys, ids and cursors from: the fixture's objects as
// an admin sees them.
type fuzzPool struct {
	customers, accounts []string
	cards               [][3]string // sourceAccountId, sourceCustomerId, last4
	nodeIDs             []string
	// cursors of every item of each list the generator pages through: "customers SOURCE_CUSTOMER_ID ASC"
	// (one per order), "accounts", "cards", "children" (of A1).
	cursors map[string][]string
}

func harvest(tb testing.TB, e *env) *fuzzPool {
	p := &fuzzPool{cursors: map[string][]string{}}
	type page struct {
		Edges []struct {
			Cursor string
			Node   struct {
				ID, SourceCustomerID, SourceAccountID, Last4 string
			}
		}
	}
	var out struct {
		Customers, Accounts, Cards page
		Customer                   struct{ Children page }
	}
	e.query(tb, `{
		customers(first: 500) { edges { cursor node { id sourceCustomerId } } }
		accounts(first: 500) { edges { cursor node { id sourceAccountId } } }
		cards(first: 500) { edges { cursor node { id sourceAccountId sourceCustomerId last4 } } }
		customer(sourceCustomerId: "A1") { children(first: 500) { edges { cursor } } } }`, nil, &out)
	for _, ed := range out.Customers.Edges {
		p.customers = append(p.customers, ed.Node.SourceCustomerID)
		p.nodeIDs = append(p.nodeIDs, ed.Node.ID)
	}
	for _, ed := range out.Accounts.Edges {
		p.accounts = append(p.accounts, ed.Node.SourceAccountID)
		p.nodeIDs = append(p.nodeIDs, ed.Node.ID)
		p.cursors["accounts"] = append(p.cursors["accounts"], ed.Cursor)
	}
	for _, ed := range out.Cards.Edges {
		p.cards = append(p.cards, [3]string{ed.Node.SourceAccountID, ed.Node.SourceCustomerID, ed.Node.Last4})
		p.nodeIDs = append(p.nodeIDs, ed.Node.ID)
		p.cursors["cards"] = append(p.cursors["cards"], ed.Cursor)
	}
	for _, ed := range out.Customer.Children.Edges {
		p.cursors["children"] = append(p.cursors["children"], ed.Cursor)
	}
	for _, field := range customerOrderFields {
		for _, dir := range []string{"ASC", "DESC"} {
			var o struct{ Customers page }
			e.query(tb, `query($o: CustomerOrder) { customers(orderBy: $o, first: 500) { edges { cursor } } }`,
				obj{"o": obj{"field": field, "direction": dir}}, &o)
			for _, ed := range o.Customers.Edges {
				p.cursors["customers "+field+" "+dir] = append(p.cursors["customers "+field+" "+dir], ed.Cursor)
			}
		}
	}
	if len(p.customers) < 5 || len(p.cards) < 5 || len(p.cursors["children"]) < 2 {
		tb.Fatalf("the fixture is smaller than the generator expects: %+v", p)
	}
	return p
}

var customerOrderFields = []string{"SOURCE_CUSTOMER_ID", "CUSTOMER_CREATION_DATE", "ENROLLMENT_START_DATE", "UPDATED_AT"}

// fuzzOp is one generated request.
type fuzzOp struct {
	doc, name string
	vars      map[string]any
	reader    bool // sent with the reader's token instead of the admin's
}

// fuzzGen writes random operations that pass validation, from the schema the server runs.
//
// Two fields of one operation with the same response key always have the same name,
// arguments and type (sigs), so that any two may meet in one selection set, through a
// fragment or a repeated parent, and be merged: the rule is stricter than GraphQL's
// (which compares fields of one selection set only), and keeps every operation valid
// without tracking where fragments are spread.
type fuzzGen struct {
	r      *rand.Rand
	schema *ast.Schema
	pool   *fuzzPool
	last   *fuzzOp
	lastV  []*fuzzVar

	// Per operation.
	sigs       map[string]string // response key → name(arguments): type
	vars       []*fuzzVar
	frags      []*fuzzFrag
	nAlias     int
	directOnly bool // only the root fields the direct executor answers
}

// fuzzVar is a variable of the operation. regen gives its value when the document is sent
// again: another draw for conditions and page sizes, the same value for the others.
type fuzzVar struct {
	name, typ, def string
	value          any
	omit           bool
	regen          func() any
}

// fuzzFrag is a named fragment: its text, the depth its fields reach below the place it is
// spread at (1: leaves only) and its complexity.
type fuzzFrag struct {
	name, on, text string
	height, cost   int
}

var fuzzSchema = graph.NewExecutableSchema(graph.Config{}).Schema()

func newFuzzGen(seed int64, pool *fuzzPool) *fuzzGen {
	return &fuzzGen{r: rand.New(rand.NewPCG(uint64(seed), 0x5eed)), schema: fuzzSchema, pool: pool}
}

func (g *fuzzGen) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](g *fuzzGen, list []T) T { return list[g.r.IntN(len(list))] }

// next returns the next operation: a new one, or now and then the previous document again
// with other values of its variables (the direct executor keeps a document's collected fields).
func (g *fuzzGen) next() *fuzzOp {
	if g.last != nil && len(g.lastV) > 0 && g.chance(0.1) {
		op := *g.last
		op.vars = map[string]any{}
		for _, v := range g.lastV {
			v.value = v.regen()
			if !v.omit {
				op.vars[v.name] = jsonValue(v.value)
			}
		}
		op.reader = g.chance(0.3)
		return &op
	}
	for {
		op, cost := g.operation()
		if cost <= fuzzMaxCost {
			g.last, g.lastV = op, g.vars
			return op
		}
	}
}

// operation writes one operation and its estimated complexity (the server's formula, graph/limits.go).
func (g *fuzzGen) operation() (*fuzzOp, int) {
	g.sigs, g.vars, g.frags, g.nAlias = map[string]string{}, nil, nil, 0
	g.directOnly = g.chance(0.75)
	root, _, cost := g.selection(g.schema.Query, 1, 1+g.r.IntN(3))
	op := &fuzzOp{vars: map[string]any{}, reader: g.chance(0.3)}
	var b strings.Builder
	fragsFirst := g.chance(0.3)
	writeFrags := func() {
		for _, i := range g.r.Perm(len(g.frags)) {
			f := g.frags[i]
			fmt.Fprintf(&b, "fragment %s on %s %s\n", f.name, f.on, f.text)
		}
	}
	if fragsFirst {
		writeFrags()
	}
	switch {
	case len(g.vars) == 0 && g.chance(0.5):
		b.WriteString(root)
	default:
		op.name = "Op"
		b.WriteString("query Op")
		if len(g.vars) > 0 {
			b.WriteString("(")
			for i, v := range g.vars {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "$%s: %s", v.name, v.typ)
				if v.def != "" {
					b.WriteString(" = " + v.def)
				}
				if !v.omit {
					op.vars[v.name] = jsonValue(v.value)
				}
			}
			b.WriteString(")")
		}
		b.WriteString(" " + root)
		if g.chance(0.1) { // another operation in the document: operationName picks Op
			b.WriteString("\nquery Other { __typename viewer { role } }")
		} else if g.chance(0.7) {
			op.name = "" // the only operation: no operationName needed
		}
	}
	b.WriteString("\n")
	if !fragsFirst {
		writeFrags()
	}
	op.doc = b.String()
	return op, cost
}

// selection writes a selection set of n items on typ whose fields sit at depth, and returns
// it with the depth its fields reach below (1: leaves only) and its complexity.
func (g *fuzzGen) selection(typ *ast.Definition, depth, n int) (string, int, int) {
	var items []string
	height, cost := 1, 0
	var written []fuzzField // the fields written here, for repeating one
	add := func(text string, h, c int) {
		items = append(items, text)
		height, cost = max(height, h), cost+c
	}
	for len(items) < n {
		switch k := g.r.IntN(100); {
		case k < 65 || typ.Kind == ast.Interface && k < 75:
			f, ok := g.newField(typ, depth)
			if !ok {
				continue
			}
			written = append(written, f)
			text, h, c := g.writeField(f, depth)
			add(text, h, c)
		case k < 70:
			add(g.typename(typ), 1, 1)
		case k < 76 && len(written) > 0:
			// The same field again (same key, same arguments) with another selection: merged.
			text, h, c := g.writeField(pick(g, written), depth)
			add(text, h, c)
		case k < 82:
			// An inline fragment: on the type itself, on an interface it implements, on one of
			// an interface's types, or without a type condition.
			on, cond := typ.Name, "..."
			if g.chance(0.8) {
				on = g.fragmentType(typ)
				cond += " on " + on
			}
			text, h, c := g.selection(g.schema.Types[on], depth, 1+g.r.IntN(3))
			add(cond+g.directives()+" "+text, h, c)
		case k < 92:
			if f := g.fragment(typ, depth); f != nil {
				add("..."+f.name+g.directives(), f.height, f.cost)
			}
		case k < 95 && typ == g.schema.Query:
			add(g.typename(typ), 1, 1)
		default:
			f, ok := g.newField(typ, depth)
			if !ok {
				continue
			}
			// The same field under two aliases with other arguments.
			for i := range 2 {
				f := g.aliased(f, i == 1)
				written = append(written, f)
				text, h, c := g.writeField(f, depth)
				add(text, h, c)
			}
		}
	}
	return "{ " + strings.Join(items, " ") + " }", height, cost
}

// fragmentType is a type a fragment may be on inside a selection on typ.
func (g *fuzzGen) fragmentType(typ *ast.Definition) string {
	options := []string{typ.Name}
	options = append(options, typ.Interfaces...)
	if typ.Kind == ast.Interface {
		for _, p := range g.schema.GetPossibleTypes(typ) {
			options = append(options, p.Name)
		}
	}
	return pick(g, options)
}

// fragment returns a named fragment to spread on typ at depth: one already written, or a new
// one; nil when none fits.
func (g *fuzzGen) fragment(typ *ast.Definition, depth int) *fuzzFrag {
	var fit []*fuzzFrag
	for _, f := range g.frags {
		if depth+f.height-1 <= fuzzMaxDepth && g.spreadable(f.on, typ) {
			fit = append(fit, f)
		}
	}
	if len(fit) > 0 && g.chance(0.6) {
		return pick(g, fit)
	}
	if len(g.frags) >= 4 {
		return nil
	}
	on := g.fragmentType(typ)
	text, h, c := g.selection(g.schema.Types[on], depth, 1+g.r.IntN(3))
	f := &fuzzFrag{name: fmt.Sprintf("F%d", len(g.frags)+1), on: on, text: text, height: h, cost: c}
	g.frags = append(g.frags, f) // after its body: a fragment spreads only earlier ones, never itself
	return f
}

// spreadable tells whether a fragment on the type named on may be spread in a selection on typ.
func (g *fuzzGen) spreadable(on string, typ *ast.Definition) bool {
	possible := func(d *ast.Definition) []string {
		var out []string
		for _, p := range g.schema.GetPossibleTypes(d) {
			out = append(out, p.Name)
		}
		return out
	}
	a, b := possible(g.schema.Types[on]), possible(typ)
	return slices.ContainsFunc(a, func(s string) bool { return slices.Contains(b, s) })
}

// directives returns, now and then, @skip or @include (or both) with a literal or a variable.
func (g *fuzzGen) directives() string {
	var out string
	for _, d := range []string{"skip", "include"} {
		if g.chance(0.08) {
			out += " @" + d + "(if: " + g.condition() + ")"
		}
	}
	return out
}

func (g *fuzzGen) condition() string {
	switch g.r.IntN(3) {
	case 0:
		return strconv.FormatBool(g.chance(0.5))
	case 1: // a Boolean variable of the operation, if any
		for _, i := range g.r.Perm(len(g.vars)) {
			if g.vars[i].typ == "Boolean!" {
				return "$" + g.vars[i].name
			}
		}
	}
	boolean := func() any { return g.chance(0.5) }
	if g.chance(0.2) { // nullable with a default: allowed where Boolean! is expected
		fv := &fuzzVar{name: fmt.Sprintf("v%d", len(g.vars)+1), typ: "Boolean", def: strconv.FormatBool(g.chance(0.5)),
			value: boolean(), omit: g.chance(0.5), regen: boolean}
		g.vars = append(g.vars, fv)
		return "$" + fv.name
	}
	return g.variable("Boolean!", boolean(), boolean)
}

// fuzzField is a field to write: its definition, response key and arguments.
type fuzzField struct {
	def   *ast.FieldDefinition
	on    *ast.Definition
	alias string
	args  string
	page  int // the page size its complexity counts (connections and nodes)
}

// newField chooses a field of typ with its arguments; ok is false when typ's fields at this
// depth offer none.
func (g *fuzzGen) newField(typ *ast.Definition, depth int) (fuzzField, bool) {
	var choices []*ast.FieldDefinition
	for _, f := range typ.Fields {
		if strings.HasPrefix(f.Name, "__") && f.Name != "__type" {
			continue
		}
		// Objects stop at the depth bound; introspection types give their leaves only
		// (gqlparser refuses deeper introspection, which would only test its validation).
		kind := g.schema.Types[f.Type.Name()].Kind
		if leaf := kind == ast.Scalar || kind == ast.Enum; !leaf && (depth >= fuzzMaxDepth || strings.HasPrefix(typ.Name, "__")) {
			continue
		}
		if typ == g.schema.Query {
			switch f.Name {
			case "node", "nodes", "portfolioStats", "viewer", "__type":
				if g.directOnly || f.Name == "__type" && g.chance(0.7) {
					continue
				}
			}
		}
		choices = append(choices, f)
	}
	if len(choices) == 0 {
		return fuzzField{}, false
	}
	f := fuzzField{def: pick(g, choices), on: typ}
	f.args, f.page = g.arguments(typ, f.def)
	return g.keyed(f), true
}

// keyed gives f an alias when it asks for one, or when its name already answers another
// field elsewhere in the operation (sigs).
func (g *fuzzGen) keyed(f fuzzField) fuzzField {
	sig := f.def.Name + f.args + ": " + f.def.Type.String()
	if g.chance(0.2) {
		return g.aliased(f, false)
	}
	if prev, ok := g.sigs[f.def.Name]; ok && prev != sig {
		return g.aliased(f, false)
	}
	g.sigs[f.def.Name] = sig
	return f
}

// aliased is f under a new alias, with its arguments drawn again when redraw is set.
func (g *fuzzGen) aliased(f fuzzField, redraw bool) fuzzField {
	if redraw {
		f.args, f.page = g.arguments(f.on, f.def)
	}
	sig := f.def.Name + f.args + ": " + f.def.Type.String()
	f.alias = g.alias(sig, f.on)
	return f
}

// alias returns a new alias for a field of typ with signature sig: a1, a2…, or now and then
// the name of another field of typ (`postalCode: country`) that no other field answers.
func (g *fuzzGen) alias(sig string, typ *ast.Definition) string {
	if g.chance(0.3) {
		name := pick(g, typ.Fields).Name
		if prev, ok := g.sigs[name]; !strings.HasPrefix(name, "__") && (!ok || prev == sig) {
			g.sigs[name] = sig
			return name
		}
	}
	g.nAlias++
	a := fmt.Sprintf("a%d", g.nAlias)
	g.sigs[a] = sig
	return a
}

// typename selects __typename, sometimes under an alias.
func (g *fuzzGen) typename(typ *ast.Definition) string {
	if g.chance(0.2) {
		return g.alias("__typename: String!", typ) + ": __typename" + g.directives()
	}
	return "__typename" + g.directives()
}

// writeField writes f with a new selection and returns it with its height and complexity.
func (g *fuzzGen) writeField(f fuzzField, depth int) (string, int, int) {
	text := f.def.Name + f.args
	if f.alias != "" {
		text = f.alias + ": " + text
	}
	text += g.directives()
	typ := g.schema.Types[f.def.Type.Name()]
	if typ.Kind == ast.Scalar || typ.Kind == ast.Enum {
		return text, 1, 1
	}
	n := 1 + g.r.IntN(max(1, 5-depth))
	sel, h, c := g.selection(typ, depth+1, n)
	if f.page > 0 {
		c *= f.page
	}
	return text + " " + sel, h + 1, 1 + c
}

// arguments writes the arguments of field f of typ, and the page size its complexity counts
// (0 for a field that is not a connection or nodes).
func (g *fuzzGen) arguments(typ *ast.Definition, f *ast.FieldDefinition) (string, int) {
	var args []string
	page := 0
	hint := typ.Name + "." + f.Name + "."
	var card [3]string // Query.card: mostly a card that exists
	if g.chance(0.7) {
		card = pick(g, g.pool.cards)
	}
	paging := f.Arguments.ForName("first") != nil
	if paging {
		page = 50 // the store's default page
	}
	order := "SOURCE_CUSTOMER_ID ASC"
	for _, a := range f.Arguments {
		var v any
		switch a.Name {
		case "first", "last", "after", "before":
			continue // below, together
		case "sourceAccountId", "sourceCustomerId", "last4":
			if typ.Name == "Query" && f.Name == "card" && card[0] != "" {
				v = card[slices.Index([]string{"sourceAccountId", "sourceCustomerId", "last4"}, a.Name)]
			}
		case "orderBy":
			if !g.chance(0.5) {
				continue
			}
			field, dir := pick(g, customerOrderFields), pick(g, []string{"ASC", "DESC"})
			o := gqlObject{{"field", gqlEnum(field)}}
			if dir == "DESC" || g.chance(0.5) {
				o = append(o, gqlPair{"direction", gqlEnum(dir)})
			}
			order = field + " " + dir
			v = o
		}
		if v == nil {
			if !a.Type.NonNull && !g.chance(0.4) {
				continue
			}
			v = g.value(hint+a.Name, a.Type)
		}
		if a.Name == "ids" {
			page = 1
			if ids, ok := v.([]any); ok {
				page = max(1, len(ids))
			}
		}
		args = append(args, a.Name+": "+g.render(v, a.Type, 0.25))
	}
	if paging {
		var p []string
		p, page = g.paging(f, typ.Name, order)
		args = append(args, p...)
	}
	if len(args) == 0 {
		return "", page
	}
	g.r.Shuffle(len(args), func(i, j int) { args[i], args[j] = args[j], args[i] })
	return "(" + strings.Join(args, ", ") + ")", page
}

// paging writes the first/last/after/before arguments of a connection field and returns the
// page size its complexity counts: a page of 1 to 3 mostly, the default page now and then,
// and rarely one the store refuses (over the limit, negative, or first and last together).
func (g *fuzzGen) paging(f *ast.FieldDefinition, on, order string) ([]string, int) {
	list := f.Name
	switch {
	case f.Name == "customers":
		list = "customers " + order
	case on == "Customer" && f.Name == "children":
		list = "children"
	}
	cursorArg := func() string {
		c := pick(g, g.pool.cursors[list])
		switch k := g.r.IntN(20); {
		case k == 0:
			c = "bogus"
		case k < 3: // a cursor of another order or list
			keys := slices.Sorted(func(yield func(string) bool) {
				for k := range g.pool.cursors {
					if !yield(k) {
						return
					}
				}
			})
			c = pick(g, g.pool.cursors[pick(g, keys)])
		}
		return g.render(c, &ast.Type{NamedType: "String"}, 0.25)
	}
	size := func() (int, string) {
		n := 1 + g.r.IntN(3)
		if g.chance(0.06) {
			n = pick(g, []int{0, -1, 501, 100000})
		}
		regen := func() any {
			if g.chance(0.1) {
				return 501
			}
			return 1 + g.r.IntN(3)
		}
		return n, g.renderInt(n, regen)
	}
	backward := f.Arguments.ForName("last") != nil
	var args []string
	var n int
	page := func(count, from string) { // a page of 1 to 3 (rarely not), from a cursor or the end
		var s string
		n, s = size()
		args = append(args, count+": "+s)
		if g.chance(0.4) {
			args = append(args, from+": "+cursorArg())
		}
	}
	switch k := g.r.IntN(100); {
	case k < 50 || !backward && k < 75:
		page("first", "after")
	case k < 75:
		page("last", "before")
	case k < 97:
		n = 50 // the default page
		switch {
		case g.chance(0.3):
			args = append(args, "after: "+cursorArg())
		case backward && g.chance(0.2):
			args = append(args, "before: "+cursorArg())
		}
	default: // both directions at once
		var s string
		n, s = size()
		args = append(args, "first: "+s)
		if backward {
			_, s = size()
			args = append(args, "last: "+s)
		}
	}
	if n < 0 || n > 500 {
		n = 500 // priced as the largest page (graph/limits.go)
	}
	return args, max(n, 1)
}

func (g *fuzzGen) renderInt(n int, regen func() any) string {
	if g.chance(0.25) {
		return g.variable("Int", n, regen)
	}
	return strconv.Itoa(n)
}

// Values of arguments, as literals or variables.
type (
	gqlEnum string
	gqlPair struct {
		name  string
		value any
	}
	gqlObject []gqlPair
	gqlSingle struct{ value any } // one value where a list is expected (input coercion makes it a list)
)

// value draws a value of type t for the argument or input field named by hint (Type.field.arg
// or InputType.field): keys and filter values the fixture has, and some it does not.
func (g *fuzzGen) value(hint string, t *ast.Type) any {
	if t.Elem != nil {
		if g.chance(0.1) {
			return gqlSingle{g.value(hint, t.Elem)}
		}
		out := make([]any, 1+g.r.IntN(3))
		for i := range out {
			out[i] = g.value(hint, t.Elem)
		}
		return out
	}
	if v, ok := g.hinted(hint); ok {
		return v
	}
	def := g.schema.Types[t.NamedType]
	switch def.Kind {
	case ast.Enum:
		return gqlEnum(pick(g, def.EnumValues).Name)
	case ast.InputObject:
		var o gqlObject
		for _, f := range def.Fields {
			switch {
			case !f.Type.NonNull && g.chance(0.03):
				o = append(o, gqlPair{f.Name, nil})
			case f.Type.NonNull || g.chance(0.3):
				o = append(o, gqlPair{f.Name, g.value(def.Name+"."+f.Name, f.Type)})
			}
		}
		g.r.Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
		return o
	}
	switch t.NamedType {
	case "Int":
		return g.r.IntN(6)
	case "Boolean":
		return g.chance(0.5)
	case "DateTime":
		return pick(g, []string{"2017-01-01", "2018-05-12T20:30:00Z", "2019-03-04T05:06:07.123+02:00", "2023-01-01",
			"2023-01-01T08:00:00Z", "2024-02-29", "2030-01-01T00:00:00-05:00"})
	}
	return pick(g, []string{"x", "78753", "P-1", "OA"})
}

// hinted draws a value for the arguments and input fields whose meaning the schema's types
// do not tell.
func (g *fuzzGen) hinted(hint string) (any, bool) {
	customers := append(slices.Clone(g.pool.customers), "nobody")
	accounts := append(slices.Clone(g.pool.accounts), "nope")
	last4s := []string{"9999"}
	for _, c := range g.pool.cards {
		last4s = append(last4s, c[2])
	}
	invalid := func(good []string, bad ...string) string {
		if g.chance(0.03) {
			return pick(g, bad)
		}
		return pick(g, good)
	}
	switch hint {
	case "Query.customer.sourceCustomerId", "Query.card.sourceCustomerId", "CardFilter.sourceCustomerId",
		"CustomerFilter.sourceParentCustomerId":
		return pick(g, customers), true
	case "Query.account.sourceAccountId", "Query.card.sourceAccountId", "CardFilter.sourceAccountId":
		return pick(g, accounts), true
	case "Query.card.last4", "CardFilter.last4":
		return invalid(last4s, "12a4", "123", ""), true
	case "CardFilter.iin":
		return invalid([]string{"412345", "51234567", "601100", "999999", "41234567"}, "41234", "4123456"), true
	case "CustomerFilter.organizationIds", "AccountFilter.organizationIds", "CardFilter.organizationIds":
		return pick(g, []string{"OA", "OB", "OX"}), true
	case "CustomerFilter.countries":
		return pick(g, []string{"US", "CA", "FR"}), true
	case "CustomerFilter.postalCode":
		return pick(g, []string{"78753", "1-2 3", "H2X-1Y4", "99999"}), true
	case "AccountFilter.sourcePortfolioIds":
		return pick(g, []string{"P-1", "P-2", "P-9"}), true
	case "CardFilter.networkIdentifiers":
		return pick(g, []int{3, 4, 5, 6}), true
	case "Query.node.id", "Query.nodes.ids":
		return pick(g, append(slices.Clone(g.pool.nodeIDs), models.CustomerNodeID("nobody"), models.AccountNodeID("nope"))), true
	case "Query.__type.name":
		return pick(g, []string{"Customer", "Node", "CardFilter", "Nope"}), true
	}
	return nil, false
}

// render writes v as a literal of type t, or, with probability p, as a new variable of type t
// (inner values of lists and input objects become variables less often).
func (g *fuzzGen) render(v any, t *ast.Type, p float64) string {
	if g.chance(p) {
		hint := v
		return g.variable(t.String(), v, func() any { return hint })
	}
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return jsonString(v)
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	case gqlEnum:
		return string(v)
	case gqlSingle:
		return g.render(v.value, t.Elem, 0) // a variable here would have the item type, not the list type
	case []any:
		items := make([]string, len(v))
		for i, it := range v {
			items[i] = g.render(it, t.Elem, p/3)
		}
		return "[" + strings.Join(items, ", ") + "]"
	case gqlObject:
		def := g.schema.Types[t.NamedType]
		fields := make([]string, len(v))
		for i, f := range v {
			fields[i] = f.name + ": " + g.render(f.value, def.Fields.ForName(f.name).Type, p/3)
		}
		return "{" + strings.Join(fields, ", ") + "}"
	}
	panic(fmt.Sprintf("no literal for %T", v))
}

// variable declares a variable of type typ holding v and returns its reference. A nullable
// one is sometimes sent as null, or declared with v as its default and not sent.
func (g *fuzzGen) variable(typ string, v any, regen func() any) string {
	fv := &fuzzVar{name: fmt.Sprintf("v%d", len(g.vars)+1), typ: typ, value: v, regen: regen}
	if !strings.HasSuffix(typ, "!") {
		switch k := g.r.IntN(10); {
		case k == 0:
			fv.value, fv.regen = nil, func() any { return nil }
		case k < 3:
			fv.def, fv.omit = g.render(v, typeOf(typ), 0), true
		}
	}
	g.vars = append(g.vars, fv)
	return "$" + fv.name
}

// typeOf parses a type reference such as [String!]!.
func typeOf(s string) *ast.Type {
	nonNull := strings.HasSuffix(s, "!")
	s = strings.TrimSuffix(s, "!")
	if strings.HasPrefix(s, "[") {
		return &ast.Type{Elem: typeOf(s[1 : len(s)-1]), NonNull: nonNull}
	}
	return &ast.Type{NamedType: s, NonNull: nonNull}
}

// jsonValue is v as a variable's JSON value.
func jsonValue(v any) any {
	switch v := v.(type) {
	case gqlEnum:
		return string(v)
	case gqlSingle:
		return jsonValue(v.value)
	case []any:
		out := make([]any, len(v))
		for i, it := range v {
			out[i] = jsonValue(it)
		}
		return out
	case gqlObject:
		out := map[string]any{}
		for _, f := range v {
			out[f.name] = jsonValue(f.value)
		}
		return out
	}
	return v
}

// The generator writes operations that pass validation, with variables of the declared types:
// an invalid one would only compare gqlgen's validation error with itself.
func TestFuzzGeneratorWritesValidOperations(t *testing.T) {
	pool := &fuzzPool{customers: []string{"A1", "B1"}, accounts: []string{"J"}, cards: [][3]string{{"J", "A1", "1111"}},
		nodeIDs: []string{models.CustomerNodeID("A1")}, cursors: map[string][]string{}}
	for _, k := range []string{"accounts", "cards", "children"} {
		pool.cursors[k] = []string{"c-" + k}
	}
	for _, f := range customerOrderFields {
		pool.cursors["customers "+f+" ASC"], pool.cursors["customers "+f+" DESC"] = []string{"c"}, []string{"d"}
	}
	for seed := range int64(50) {
		g := newFuzzGen(seed, pool)
		for i := range 40 {
			op := g.next()
			doc, err := gqlparser.LoadQuery(fuzzSchema, op.doc)
			if err != nil {
				t.Fatalf("seed %d, operation %d: %v\n%s", seed, i, err, op.doc)
			}
			name := op.name
			if name == "" {
				name = doc.Operations[0].Name
			}
			if _, err := validator.VariableValues(fuzzSchema, doc.Operations.ForName(name), op.vars); err != nil {
				t.Fatalf("seed %d, operation %d: %v\n%s\n%s", seed, i, err, op.doc, jsonString(op.vars))
			}
		}
	}
}
