package graph

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/portfolio-graph/portfolio-graph/db"
	"github.com/portfolio-graph/portfolio-graph/models"
)

// Nested fields load in batches without timers. Every list of objects the request loads (a
// page of customers, all the accounts of those customers, ...) is registered as one sibling
// group. The first time any member asks for a field, that field is loaded for the whole group
// in one statement and every member takes its part. So a request costs one statement per
// level of nesting whatever the page size, and nothing waits for a batching window: a timed
// dataloader would add its wait to every level of every request.

type loadersKey struct{}

// Loaders holds one request's sibling groups and results.
type Loaders struct {
	store *db.Store
	scope models.Scope

	mu     sync.Mutex
	groups map[any]*group
}

// group is a set of sibling objects and the fields already loaded for them.
type group struct {
	members []any
	mu      sync.Mutex
	loads   map[string]*pending
}

// pending is one field's load for a whole group; done closes when result and err are set.
type pending struct {
	done   chan struct{}
	result any
	err    error
}

// withLoaders returns a context with fresh loaders for one operation.
func withLoaders(ctx context.Context, store *db.Store, scope models.Scope) context.Context {
	return context.WithValue(ctx, loadersKey{}, &Loaders{store: store, scope: scope, groups: map[any]*group{}})
}

func loadersFor(ctx context.Context) *Loaders {
	l, _ := ctx.Value(loadersKey{}).(*Loaders)
	return l
}

// adopt registers objects loaded together as siblings.
func adopt[T any](ctx context.Context, objs []*T) {
	l := loadersFor(ctx)
	if l == nil || len(objs) == 0 {
		return
	}
	g := &group{members: make([]any, len(objs)), loads: map[string]*pending{}}
	l.mu.Lock()
	for i, o := range objs {
		g.members[i] = o
		l.groups[o] = g
	}
	l.mu.Unlock()
}

func (l *Loaders) groupOf(obj any) *group {
	l.mu.Lock()
	defer l.mu.Unlock()
	g, ok := l.groups[obj]
	if !ok {
		g = &group{members: []any{obj}, loads: map[string]*pending{}}
		l.groups[obj] = g
	}
	return g
}

// batch returns one parent's value of a field, loading the field for all of the parent's
// siblings with a single call of fetch the first time any of them asks. key tells apart
// the same field asked with different arguments.
func batch[P, V any](ctx context.Context, parent *P, key string, fetch func(ctx context.Context, parents []*P) (map[*P]V, error)) (V, error) {
	var zero V
	l := loadersFor(ctx)
	if l == nil {
		m, err := fetch(ctx, []*P{parent})
		return m[parent], err
	}
	g := l.groupOf(parent)
	g.mu.Lock()
	p, started := g.loads[key]
	if !started {
		p = &pending{done: make(chan struct{})}
		g.loads[key] = p
	}
	g.mu.Unlock()
	if !started {
		parents := make([]*P, 0, len(g.members))
		for _, m := range g.members {
			if x, ok := m.(*P); ok {
				parents = append(parents, x)
			}
		}
		p.result, p.err = fetch(ctx, parents)
		close(p.done)
	} else {
		select {
		case <-p.done:
		case <-ctx.Done():
			return zero, ctx.Err()
		}
	}
	if p.err != nil {
		return zero, p.err
	}
	return p.result.(map[*P]V)[parent], nil
}

// argsKey fingerprints a field's arguments for batch's key.
func argsKey(field string, args ...any) string {
	b, _ := json.Marshal(args) // argument values are plain input structs
	return field + string(b)
}

// distinct lists the distinct non-empty strings produced by f over items.
func distinct[T any](items []*T, f func(*T) []string) []string {
	seen := make(map[string]bool, len(items))
	var out []string
	for _, it := range items {
		for _, s := range f(it) {
			if s != "" && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

func one(s string) []string { return []string{s} }

func optional(s *string) []string {
	if s == nil {
		return nil
	}
	return []string{*s}
}

// flatten gathers the children of all parents, each object once, to adopt them as one group.
func flatten[P, T any](m map[*P][]*T) []*T {
	seen := map[*T]bool{}
	var out []*T
	for _, list := range m {
		for _, x := range list {
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
	}
	return out
}

// Typed loads, one per nested field. Each turns a group of parents into one store call.

func (l *Loaders) customersByID(ctx context.Context, ids []string) (map[string]*models.Customer, error) {
	m, err := l.store.CustomersByIDs(ctx, l.scope, ids)
	if err != nil {
		return nil, err
	}
	list := make([]*models.Customer, 0, len(m))
	for _, c := range m {
		list = append(list, c)
	}
	adopt(ctx, list)
	return m, nil
}

func parentOf(ctx context.Context, c *models.Customer) (*models.Customer, error) {
	if c.SourceParentCustomerID == nil {
		return nil, nil
	}
	return batch(ctx, c, "parent", func(ctx context.Context, cs []*models.Customer) (map[*models.Customer]*models.Customer, error) {
		byID, err := loadersFor(ctx).customersByID(ctx, distinct(cs, func(c *models.Customer) []string { return optional(c.SourceParentCustomerID) }))
		if err != nil {
			return nil, err
		}
		out := make(map[*models.Customer]*models.Customer, len(cs))
		for _, c := range cs {
			if c.SourceParentCustomerID != nil {
				out[c] = byID[*c.SourceParentCustomerID]
			}
		}
		return out, nil
	})
}

func childrenOf(ctx context.Context, c *models.Customer, pa db.PageArgs) (*db.ChildPage, error) {
	return batch(ctx, c, argsKey("children", pa), func(ctx context.Context, cs []*models.Customer) (map[*models.Customer]*db.ChildPage, error) {
		l := loadersFor(ctx)
		pages, err := l.store.ChildrenOf(ctx, l.scope, distinct(cs, func(c *models.Customer) []string { return one(c.SourceCustomerID) }), pa)
		if err != nil {
			return nil, err
		}
		out := make(map[*models.Customer]*db.ChildPage, len(cs))
		var all []*models.Customer
		for _, c := range cs {
			out[c] = pages[c.SourceCustomerID]
			all = append(all, out[c].Items...)
		}
		adopt(ctx, all)
		return out, nil
	})
}

func childCount(ctx context.Context, c *models.Customer) (int, error) {
	return batch(ctx, c, "children.count", func(ctx context.Context, cs []*models.Customer) (map[*models.Customer]int, error) {
		l := loadersFor(ctx)
		n, err := l.store.CountChildren(ctx, l.scope, distinct(cs, func(c *models.Customer) []string { return one(c.SourceCustomerID) }))
		if err != nil {
			return nil, err
		}
		out := make(map[*models.Customer]int, len(cs))
		for _, c := range cs {
			out[c] = n[c.SourceCustomerID]
		}
		return out, nil
	})
}

func accountsOf(ctx context.Context, c *models.Customer, f *models.AccountFilter) ([]*models.Account, error) {
	return batch(ctx, c, argsKey("accounts", f), func(ctx context.Context, cs []*models.Customer) (map[*models.Customer][]*models.Account, error) {
		l := loadersFor(ctx)
		byHolder, err := l.store.AccountsByHolders(ctx, l.scope, distinct(cs, func(c *models.Customer) []string { return one(c.SourceCustomerID) }), f)
		if err != nil {
			return nil, err
		}
		out := make(map[*models.Customer][]*models.Account, len(cs))
		for _, c := range cs {
			out[c] = nonNil(byHolder[c.SourceCustomerID])
		}
		adopt(ctx, flatten(out))
		return out, nil
	})
}

func cardsOfCustomer(ctx context.Context, c *models.Customer, f *models.CardFilter) ([]*models.Card, error) {
	return batch(ctx, c, argsKey("cards", f), func(ctx context.Context, cs []*models.Customer) (map[*models.Customer][]*models.Card, error) {
		l := loadersFor(ctx)
		byHolder, err := l.store.CardsByHolders(ctx, l.scope, distinct(cs, func(c *models.Customer) []string { return one(c.SourceCustomerID) }), f)
		if err != nil {
			return nil, err
		}
		out := make(map[*models.Customer][]*models.Card, len(cs))
		for _, c := range cs {
			out[c] = nonNil(byHolder[c.SourceCustomerID])
		}
		adopt(ctx, flatten(out))
		return out, nil
	})
}

func holdersOf(ctx context.Context, a *models.Account) ([]*models.Customer, error) {
	return batch(ctx, a, "holders", func(ctx context.Context, as []*models.Account) (map[*models.Account][]*models.Customer, error) {
		byID, err := loadersFor(ctx).customersByID(ctx, distinct(as, func(a *models.Account) []string { return a.SourceCustomerIDs }))
		if err != nil {
			return nil, err
		}
		out := make(map[*models.Account][]*models.Customer, len(as))
		for _, a := range as {
			list := []*models.Customer{}
			for _, id := range a.SourceCustomerIDs {
				if c, ok := byID[id]; ok {
					list = append(list, c)
				}
			}
			out[a] = list
		}
		return out, nil
	})
}

func primaryOf(ctx context.Context, a *models.Account) (*models.Customer, error) {
	return batch(ctx, a, "primaryCustomer", func(ctx context.Context, as []*models.Account) (map[*models.Account]*models.Customer, error) {
		byID, err := loadersFor(ctx).customersByID(ctx, distinct(as, func(a *models.Account) []string { return one(a.PrimarySourceCustomerID) }))
		if err != nil {
			return nil, err
		}
		out := make(map[*models.Account]*models.Customer, len(as))
		for _, a := range as {
			out[a] = byID[a.PrimarySourceCustomerID]
		}
		return out, nil
	})
}

func cardsOfAccount(ctx context.Context, a *models.Account, f *models.CardFilter) ([]*models.Card, error) {
	return batch(ctx, a, argsKey("cards", f), func(ctx context.Context, as []*models.Account) (map[*models.Account][]*models.Card, error) {
		l := loadersFor(ctx)
		byAccount, err := l.store.CardsByAccounts(ctx, l.scope, distinct(as, func(a *models.Account) []string { return one(a.SourceAccountID) }), f)
		if err != nil {
			return nil, err
		}
		out := make(map[*models.Account][]*models.Card, len(as))
		for _, a := range as {
			out[a] = nonNil(byAccount[a.SourceAccountID])
		}
		adopt(ctx, flatten(out))
		return out, nil
	})
}

func accountOfCard(ctx context.Context, c *models.Card) (*models.Account, error) {
	return batch(ctx, c, "account", func(ctx context.Context, cs []*models.Card) (map[*models.Card]*models.Account, error) {
		l := loadersFor(ctx)
		byID, err := l.store.AccountsByIDs(ctx, l.scope, distinct(cs, func(c *models.Card) []string { return one(c.SourceAccountID) }))
		if err != nil {
			return nil, err
		}
		out := make(map[*models.Card]*models.Account, len(cs))
		list := make([]*models.Account, 0, len(byID))
		for _, a := range byID {
			list = append(list, a)
		}
		for _, c := range cs {
			out[c] = byID[c.SourceAccountID]
		}
		adopt(ctx, list)
		return out, nil
	})
}

func holderOfCard(ctx context.Context, c *models.Card) (*models.Customer, error) {
	return batch(ctx, c, "customer", func(ctx context.Context, cs []*models.Card) (map[*models.Card]*models.Customer, error) {
		byID, err := loadersFor(ctx).customersByID(ctx, distinct(cs, func(c *models.Card) []string { return one(c.SourceCustomerID) }))
		if err != nil {
			return nil, err
		}
		out := make(map[*models.Card]*models.Customer, len(cs))
		for _, c := range cs {
			out[c] = byID[c.SourceCustomerID]
		}
		return out, nil
	})
}

func nonNil[T any](s []*T) []*T {
	if s == nil {
		return []*T{}
	}
	return s
}
