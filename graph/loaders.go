package graph

import (
	"context"
	"fmt"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

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

	// Every customer and account the request has loaded, by id, so that a look-up by id
	// (a card's holder, a card's account) sends a statement only for the ids not seen yet:
	// an account's cards' holders are its holders, loaded a level before.
	customers known[models.Customer]
	accounts  known[models.Account]
}

// known is the objects of one type a request has loaded, by id, and the ids a look-up found
// absent (not stored, or not visible to the caller: every load applies the request's scope).
// A mutation's root fields run one after another and may change what an earlier one read, so
// a mutation's loaders keep nothing (off) and every look-up reads the store.
type known[T any] struct {
	off  bool
	mu   sync.Mutex
	byID map[string]*T // nil: looked up and absent
}

// add records objects loaded by any means.
func (k *known[T]) add(objs []*T, idOf func(*T) string) {
	if k.off {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.byID == nil {
		k.byID = make(map[string]*T, len(objs))
	}
	for _, o := range objs {
		k.byID[idOf(o)] = o
	}
}

// lookUp returns the objects of ids, copies of those already loaded and the others through
// fetch, given only the ids not seen yet. An object is copied because it belongs to one
// sibling group: the copy joins the group of the look-up.
func (k *known[T]) lookUp(ids []string, fetch func(ids []string) (map[string]*T, error)) (map[string]*T, error) {
	if k.off {
		return fetch(ids)
	}
	out := make(map[string]*T, len(ids))
	var missing []string
	k.mu.Lock()
	for _, id := range ids {
		o, seen := k.byID[id]
		switch {
		case !seen:
			missing = append(missing, id)
		case o != nil:
			c := *o
			out[id] = &c
		}
	}
	k.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	got, err := fetch(missing)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	if k.byID == nil {
		k.byID = make(map[string]*T, len(missing))
	}
	for _, id := range missing {
		k.byID[id] = got[id] // nil when absent
		if o := got[id]; o != nil {
			out[id] = o
		}
	}
	k.mu.Unlock()
	return out, nil
}

// group is a set of sibling objects and the fields already loaded for them.
type group struct {
	members []any
	mu      sync.Mutex
	loads   map[loadKey]*pending
}

// loadKey names one field's load within a group. A field asked with arguments is told apart
// by where it stands in the document: within one operation the same field node always has the
// same argument values, and siblings share their parent's selection, so the node identifies
// the arguments without encoding them.
type loadKey struct {
	field string
	node  *ast.Field // nil when the field was asked without arguments
}

// pending is one field's load for a whole group; done closes when result and err are set.
type pending struct {
	done   chan struct{}
	result any
	err    error
}

// withLoaders returns a context with fresh loaders for one operation; those of a mutation
// keep no known objects.
func withLoaders(ctx context.Context, store *db.Store, scope models.Scope, mutation bool) context.Context {
	l := &Loaders{store: store, scope: scope, groups: map[any]*group{}}
	l.customers.off, l.accounts.off = mutation, mutation
	return context.WithValue(ctx, loadersKey{}, l)
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
	switch loaded := any(objs).(type) {
	case []*models.Customer:
		l.customers.add(loaded, customerID)
	case []*models.Account:
		l.accounts.add(loaded, func(a *models.Account) string { return a.SourceAccountID })
	}
	g := &group{members: make([]any, len(objs)), loads: map[loadKey]*pending{}}
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
		g = &group{members: []any{obj}, loads: map[loadKey]*pending{}}
		l.groups[obj] = g
	}
	return g
}

// settle records result as the load of key for obj's whole group, as if fetched.
func (l *Loaders) settle(obj any, key loadKey, result any) {
	g := l.groupOf(obj)
	p := &pending{done: make(chan struct{}), result: result}
	close(p.done)
	g.mu.Lock()
	if _, started := g.loads[key]; !started {
		g.loads[key] = p
	}
	g.mu.Unlock()
}

// batch returns one parent's value of a field, loading the field for all of the parent's
// siblings with a single call of fetch the first time any of them asks. key tells apart
// the same field asked with different arguments.
func batch[P, V any](ctx context.Context, parent *P, key loadKey, fetch func(ctx context.Context, parents []*P) (map[*P]V, error)) (V, error) {
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
		func() {
			// Siblings wait on done: it closes even when fetch panics, which then goes on up
			// (a sibling, or gqlgen's run after the direct executor gave up, sees the error).
			defer close(p.done)
			defer func() {
				if r := recover(); r != nil {
					p.err = fmt.Errorf("loading %s panicked: %v", key.field, r)
					panic(r)
				}
			}()
			p.result, p.err = fetch(ctx, parents)
		}()
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

// fieldKey is the load key of a field without arguments.
func fieldKey(field string) loadKey { return loadKey{field: field} }

// argsKey is the load key of a field whose arguments may be set: when none is, every
// occurrence of the field shares one load; otherwise the field's node in the document tells
// its arguments apart.
func argsKey(ctx context.Context, field string, unset bool) loadKey {
	if unset {
		return loadKey{field: field}
	}
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Field.Field != nil {
		return loadKey{field: field, node: fc.Field.Field}
	}
	return loadKey{field: field, node: &ast.Field{}} // a call from outside an operation loads alone
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

// oneBy loads, for a parent's whole group, the object each parent names by idOf ("" for none)
// and registers the loaded objects as a group of their own.
func oneBy[P, T any](ctx context.Context, parent *P, key loadKey, idOf func(*P) string,
	fetch func(ctx context.Context, l *Loaders, ids []string) (map[string]*T, error)) (*T, error) {
	return batch(ctx, parent, key, func(ctx context.Context, ps []*P) (map[*P]*T, error) {
		l := loadersFor(ctx)
		byID, err := fetch(ctx, l, distinct(ps, func(p *P) []string { return one(idOf(p)) }))
		if err != nil {
			return nil, err
		}
		adopt(ctx, values(byID))
		out := make(map[*P]*T, len(ps))
		for _, p := range ps {
			out[p] = byID[idOf(p)]
		}
		return out, nil
	})
}

// listBy loads, for a parent's whole group, the list each parent has under idOf, and
// registers all the listed objects as one group.
func listBy[P, T any](ctx context.Context, parent *P, key loadKey, idOf func(*P) string,
	fetch func(ctx context.Context, l *Loaders, ids []string) (map[string][]*T, error)) ([]*T, error) {
	return batch(ctx, parent, key, func(ctx context.Context, ps []*P) (map[*P][]*T, error) {
		l := loadersFor(ctx)
		byID, err := fetch(ctx, l, distinct(ps, func(p *P) []string { return one(idOf(p)) }))
		if err != nil {
			return nil, err
		}
		out := make(map[*P][]*T, len(ps))
		for _, p := range ps {
			out[p] = nonNil(byID[idOf(p)])
		}
		adopt(ctx, flatten(out))
		return out, nil
	})
}

func customers(ctx context.Context, l *Loaders, ids []string) (map[string]*models.Customer, error) {
	return l.customers.lookUp(ids, func(ids []string) (map[string]*models.Customer, error) {
		return l.store.CustomersByIDs(ctx, l.scope, ids)
	})
}

func customerID(c *models.Customer) string { return c.SourceCustomerID }

func parentOf(ctx context.Context, c *models.Customer) (*models.Customer, error) {
	if c.SourceParentCustomerID == nil {
		return nil, nil
	}
	return oneBy(ctx, c, fieldKey("parent"), func(c *models.Customer) string { return deref(c.SourceParentCustomerID) }, customers)
}

func childrenOf(ctx context.Context, c *models.Customer, pa db.PageArgs) (*db.ChildPage, error) {
	return batch(ctx, c, argsKey(ctx, "children", pa == db.PageArgs{}), func(ctx context.Context, cs []*models.Customer) (map[*models.Customer]*db.ChildPage, error) {
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
	return batch(ctx, c, fieldKey("children.count"), func(ctx context.Context, cs []*models.Customer) (map[*models.Customer]int, error) {
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

// accountsOf loads a customer's accounts for its whole group. When the selection also asks
// for the accounts' cards without arguments, the same statement loads them, and the accounts'
// cards field is answered from it: one round trip instead of two.
func accountsOf(ctx context.Context, c *models.Customer, f *models.AccountFilter) ([]*models.Account, error) {
	return batch(ctx, c, argsKey(ctx, "accounts", f == nil), func(ctx context.Context, cs []*models.Customer) (map[*models.Customer][]*models.Account, error) {
		l := loadersFor(ctx)
		ids := distinct(cs, func(c *models.Customer) []string { return one(c.SourceCustomerID) })
		var (
			byHolder map[string][]*models.Account
			cards    map[string][]*models.Card
			err      error
		)
		withCards := selectsWithoutArgs(ctx, accountImplementors, "cards")
		if withCards {
			byHolder, cards, err = l.store.AccountsWithCardsByHolders(ctx, l.scope, ids, f)
		} else {
			byHolder, err = l.store.AccountsByHolders(ctx, l.scope, ids, f)
		}
		if err != nil {
			return nil, err
		}
		out := make(map[*models.Customer][]*models.Account, len(cs))
		for _, c := range cs {
			out[c] = nonNil(byHolder[c.SourceCustomerID])
		}
		accounts := flatten(out)
		adopt(ctx, accounts)
		if withCards && len(accounts) > 0 {
			byAccount := make(map[*models.Account][]*models.Card, len(accounts))
			for _, a := range accounts {
				byAccount[a] = nonNil(cards[a.SourceAccountID])
			}
			l.settle(accounts[0], fieldKey("cards"), byAccount)
			adopt(ctx, flatten(byAccount))
		}
		return out, nil
	})
}

// customerByID loads one customer. When the selection asks for its accounts without
// arguments (and perhaps their cards without arguments), the same statement loads them, and
// those fields are answered from it: a customer with its accounts and cards is one round trip.
func customerByID(ctx context.Context, store *db.Store, id string) (*models.Customer, error) {
	withAccounts, withCards := false, false
	if fc := graphql.GetFieldContext(ctx); fc != nil && graphql.HasOperationContext(ctx) {
		op := graphql.GetOperationContext(ctx)
		for _, f := range graphql.CollectFields(op, fc.Field.Selections, customerImplementors) {
			if f.Name == "accounts" && len(f.Arguments) == 0 {
				withAccounts = true
				withCards = withCards || asksWithoutArgs(op, f.Selections, accountImplementors)["cards"]
			}
		}
	}
	l := loadersFor(ctx)
	if !withAccounts || l == nil {
		m, err := store.CustomersByIDs(ctx, scopeOf(ctx), []string{id})
		return m[id], err
	}
	h, err := store.CustomersWithAccounts(ctx, scopeOf(ctx), []string{id}, withCards)
	if err != nil {
		return nil, err
	}
	c := h.Customers[id]
	if c == nil {
		return nil, nil
	}
	accounts := h.Accounts[id]
	adopt(ctx, []*models.Customer{c})
	l.settle(c, fieldKey("accounts"), map[*models.Customer][]*models.Account{c: accounts})
	adopt(ctx, accounts)
	if withCards && len(accounts) > 0 {
		byAccount := make(map[*models.Account][]*models.Card, len(accounts))
		for _, a := range accounts {
			byAccount[a] = nonNil(h.Cards[a.SourceAccountID])
		}
		l.settle(accounts[0], fieldKey("cards"), byAccount)
		adopt(ctx, flatten(byAccount))
	}
	return c, nil
}

// selectsWithoutArgs tells whether the current field's selection, on an object of the given
// types, asks for the field name without arguments.
func selectsWithoutArgs(ctx context.Context, types []string, name string) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return false
	}
	return asksWithoutArgs(graphql.GetOperationContext(ctx), fc.Field.Selections, types)[name]
}

// asksWithoutArgs lists the fields a selection, on an object of the given types, asks for
// without arguments.
func asksWithoutArgs(op *graphql.OperationContext, sel ast.SelectionSet, types []string) map[string]bool {
	out := map[string]bool{}
	for _, f := range graphql.CollectFields(op, sel, types) {
		if len(f.Arguments) == 0 {
			out[f.Name] = true
		}
	}
	return out
}

// findCards loads a page of cards. When the selection asks for the cards' account or holder
// (without arguments), the same statement loads them, and those fields are answered from it:
// the support look-up of cards with their account and holder is one round trip.
func findCards(ctx context.Context, store *db.Store, f *models.CardFilter, pa db.PageArgs) (*models.CardConnection, error) {
	asked := cardNodesAskWithoutArgs(ctx)
	with := db.CardsWith{Account: asked["account"], Holder: asked["customer"]}
	page, near, count, err := store.FindCardsWith(ctx, scopeOf(ctx), f, pa, with)
	if err != nil {
		return nil, err
	}
	adopt(ctx, page.Items)
	if l := loadersFor(ctx); l != nil && near != nil && len(page.Items) > 0 {
		if with.Account {
			l.settle(page.Items[0], fieldKey("account"), neighbours(page.Items, near.Accounts, func(c *models.Card) string { return c.SourceAccountID }))
			adopt(ctx, values(near.Accounts))
		}
		if with.Holder {
			l.settle(page.Items[0], fieldKey("customer"), neighbours(page.Items, near.Holders, func(c *models.Card) string { return c.SourceCustomerID }))
			adopt(ctx, values(near.Holders))
		}
	}
	return cardConnection(page, count), nil
}

// neighbours maps each card to the object of byID that idOf names (nil when there is none).
func neighbours[T any](cards []*models.Card, byID map[string]*T, idOf func(*models.Card) string) map[*models.Card]*T {
	out := make(map[*models.Card]*T, len(cards))
	for _, c := range cards {
		out[c] = byID[idOf(c)]
	}
	return out
}

// cardNodesAskWithoutArgs lists the card fields that the current connection field's nodes
// (under nodes, or edges { node }) ask for without arguments.
func cardNodesAskWithoutArgs(ctx context.Context) map[string]bool {
	out := map[string]bool{}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return out
	}
	op := graphql.GetOperationContext(ctx)
	add := func(sel ast.SelectionSet) {
		for name := range asksWithoutArgs(op, sel, cardImplementors) {
			out[name] = true
		}
	}
	for _, f := range graphql.CollectFields(op, fc.Field.Selections, cardConnectionImplementors) {
		switch f.Name {
		case "nodes":
			add(f.Selections)
		case "edges":
			for _, e := range graphql.CollectFields(op, f.Selections, cardEdgeImplementors) {
				if e.Name == "node" {
					add(e.Selections)
				}
			}
		}
	}
	return out
}

func cardsOfCustomer(ctx context.Context, c *models.Customer, f *models.CardFilter) ([]*models.Card, error) {
	return listBy(ctx, c, argsKey(ctx, "cards", f == nil), customerID, func(ctx context.Context, l *Loaders, ids []string) (map[string][]*models.Card, error) {
		return l.store.CardsByHolders(ctx, l.scope, ids, f)
	})
}

// holdersOf lists an account's visible holders in sourceCustomerIds order.
func holdersOf(ctx context.Context, a *models.Account) ([]*models.Customer, error) {
	return batch(ctx, a, fieldKey("holders"), func(ctx context.Context, as []*models.Account) (map[*models.Account][]*models.Customer, error) {
		byID, err := customers(ctx, loadersFor(ctx), distinct(as, func(a *models.Account) []string { return a.SourceCustomerIDs }))
		if err != nil {
			return nil, err
		}
		adopt(ctx, values(byID))
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
	return oneBy(ctx, a, fieldKey("primaryCustomer"), func(a *models.Account) string { return a.PrimarySourceCustomerID }, customers)
}

func cardsOfAccount(ctx context.Context, a *models.Account, f *models.CardFilter) ([]*models.Card, error) {
	accountID := func(a *models.Account) string { return a.SourceAccountID }
	return listBy(ctx, a, argsKey(ctx, "cards", f == nil), accountID, func(ctx context.Context, l *Loaders, ids []string) (map[string][]*models.Card, error) {
		return l.store.CardsByAccounts(ctx, l.scope, ids, f)
	})
}

func accountOfCard(ctx context.Context, c *models.Card) (*models.Account, error) {
	return oneBy(ctx, c, fieldKey("account"), func(c *models.Card) string { return c.SourceAccountID }, func(ctx context.Context, l *Loaders, ids []string) (map[string]*models.Account, error) {
		return l.accounts.lookUp(ids, func(ids []string) (map[string]*models.Account, error) {
			return l.store.AccountsByIDs(ctx, l.scope, ids)
		})
	})
}

func holderOfCard(ctx context.Context, c *models.Card) (*models.Customer, error) {
	return oneBy(ctx, c, fieldKey("customer"), func(c *models.Card) string { return c.SourceCustomerID }, customers)
}

func nonNil[T any](s []*T) []*T {
	if s == nil {
		return []*T{}
	}
	return s
}

func values[K comparable, T any](m map[K]*T) []*T {
	out := make([]*T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
