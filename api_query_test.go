package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

type pageOut struct {
	Edges    []struct{ Cursor string }
	Nodes    []struct{ SourceCustomerID string }
	PageInfo struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
	TotalCount int
}

func ids(p pageOut) []string {
	out := make([]string, len(p.Nodes))
	for i, n := range p.Nodes {
		out[i] = n.SourceCustomerID
	}
	return out
}

const pageQuery = `query($first: Int, $after: String, $last: Int, $before: String, $order: CustomerOrder, $filter: CustomerFilter) {
  customers(first: $first, after: $after, last: $last, before: $before, orderBy: $order, filter: $filter) {
    edges { cursor } nodes { sourceCustomerId }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount } }`

func (e *env) page(t *testing.T, vars obj) pageOut {
	t.Helper()
	var out struct{ Customers pageOut }
	e.query(t, pageQuery, vars, &out)
	return out.Customers
}

// Walking forward with first/after and backward with last/before visits every customer once, in
// order, for every ordering; cursors stay valid when rows are inserted between pages.
func TestCustomersPaginationBothDirections(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		var cs []any
		for i := 0; i < 7; i++ {
			c := customer(fmt.Sprintf("C%d", i), "O1")
			// creation dates in reverse id order, with a tie between C2 and C3
			c["customerCreationDate"] = fmt.Sprintf("20%02d-01-01", 20-i+boolInt(i == 3))
			cs = append(cs, c)
		}
		e.mustIngest(t, cs...)
		all := []string{"C0", "C1", "C2", "C3", "C4", "C5", "C6"}
		byCreation := []string{"C6", "C5", "C4", "C2", "C3", "C1", "C0"} // C2 and C3 tie, broken by id
		orders := []struct {
			name  string
			order obj
			want  []string
		}{
			{"default", nil, all},
			{"id desc", obj{"field": "SOURCE_CUSTOMER_ID", "direction": "DESC"}, reversed(all)},
			{"creation asc", obj{"field": "CUSTOMER_CREATION_DATE"}, byCreation},
			{"creation desc", obj{"field": "CUSTOMER_CREATION_DATE", "direction": "DESC"}, reversed(byCreation)},
		}
		for _, o := range orders {
			t.Run(o.name, func(t *testing.T) {
				var got []string
				var after any
				for pages := 0; ; pages++ {
					p := e.page(t, obj{"first": 3, "after": after, "order": o.order})
					got = append(got, ids(p)...)
					if p.PageInfo.HasPreviousPage != (pages > 0) {
						t.Errorf("page %d: hasPreviousPage %v", pages, p.PageInfo.HasPreviousPage)
					}
					if !p.PageInfo.HasNextPage {
						break
					}
					after = *p.PageInfo.EndCursor
				}
				if !slices.Equal(got, o.want) {
					t.Errorf("forward: got %v, want %v", got, o.want)
				}
				got = nil
				var before any
				for {
					p := e.page(t, obj{"last": 3, "before": before, "order": o.order})
					got = append(ids(p), got...)
					if !p.PageInfo.HasPreviousPage {
						break
					}
					before = *p.PageInfo.StartCursor
				}
				if !slices.Equal(got, o.want) {
					t.Errorf("backward: got %v, want %v", got, o.want)
				}
			})
		}

		first := e.page(t, obj{"first": 2})
		e.mustIngest(t, customer("C0a", "O1"), customer("B", "O1")) // one after the cursor, one before
		next := e.page(t, obj{"first": 3, "after": *first.PageInfo.EndCursor})
		if want := []string{"C2", "C3", "C4"}; !slices.Equal(ids(next), want) {
			t.Errorf("after inserts: got %v, want %v", ids(next), want)
		}
		if first.Edges[1].Cursor != *first.PageInfo.EndCursor || first.TotalCount != 7 {
			t.Errorf("edges/pageInfo/totalCount: got %+v", first)
		}
	})
}

// after and before together bound the window on both sides, as Relay specifies; first or last
// then take from its start or end.
func TestPaginationBetweenTwoCursors(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, many(8, "O1")...)
		all := e.page(t, obj{"first": 8})
		c1, c6 := all.Edges[1].Cursor, all.Edges[6].Cursor
		cases := []struct {
			name string
			vars obj
			want string
			next bool
			prev bool
		}{
			{"both", obj{"after": c1, "before": c6}, "C0002,C0003,C0004,C0005", true, true},
			{"first", obj{"first": 2, "after": c1, "before": c6}, "C0002,C0003", true, true},
			{"last", obj{"last": 2, "after": c1, "before": c6}, "C0004,C0005", true, true},
			{"first larger than the window", obj{"first": 10, "after": c1, "before": c6}, "C0002,C0003,C0004,C0005", true, true},
		}
		for _, c := range cases {
			p := e.page(t, c.vars)
			if got := strings.Join(ids(p), ","); got != c.want || p.PageInfo.HasNextPage != c.next || p.PageInfo.HasPreviousPage != c.prev {
				t.Errorf("%s: got %s next=%v prev=%v, want %s next=%v prev=%v", c.name, got,
					p.PageInfo.HasNextPage, p.PageInfo.HasPreviousPage, c.want, c.next, c.prev)
			}
		}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// Page sizes are bounded and cursors must come from the same ordering.
func TestPaginationArgumentErrors(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, customer("C1", "O1"))
		p := e.page(t, obj{"first": 1})
		idCursor := p.Edges[0].Cursor
		cases := []struct {
			name string
			vars obj
			want string
		}{
			{"first too large", obj{"first": 501}, "first must be between 0 and 500"},
			{"negative last", obj{"last": -1}, "last must be between 0 and 500"},
			{"first and last", obj{"first": 1, "last": 1}, "first and last cannot be used together"},
			{"garbage cursor", obj{"after": "not-a-cursor"}, "invalid cursor"},
			{"cursor of another order", obj{"after": idCursor, "order": obj{"field": "UPDATED_AT"}}, "invalid cursor"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				errs := e.errorsOf(t, pageQuery, c.vars)
				if errs[0].code() != "BAD_USER_INPUT" || !strings.Contains(errs[0].Message, c.want) {
					t.Errorf("got %q (%s), want BAD_USER_INPUT containing %q", errs[0].Message, errs[0].code(), c.want)
				}
			})
		}
		if p := e.page(t, obj{"first": 0}); len(p.Nodes) != 0 || !p.PageInfo.HasNextPage {
			t.Errorf("first: 0: got %+v, want an empty page with a next page", p)
		}
	})
}
