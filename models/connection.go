package models

import "context"

// PageInfo tells where a page sits in the whole list (Relay connections).
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

// Counter computes a connection's totalCount on demand: the COUNT query runs only when a
// client selects the field.
type Counter func(ctx context.Context) (int, error)

// CustomerEdge is a customer and its cursor.
type CustomerEdge struct {
	Cursor string
	Node   *Customer
}

// CustomerConnection is a page of customers.
type CustomerConnection struct {
	Edges    []*CustomerEdge
	PageInfo *PageInfo
	count    Counter
}

// NewCustomerConnection builds a connection whose totalCount comes from count.
func NewCustomerConnection(edges []*CustomerEdge, info *PageInfo, count Counter) *CustomerConnection {
	return &CustomerConnection{Edges: edges, PageInfo: info, count: count}
}

// Nodes lists the page's customers.
func (c *CustomerConnection) Nodes() []*Customer {
	out := make([]*Customer, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node
	}
	return out
}

// TotalCount counts every matching customer.
func (c *CustomerConnection) TotalCount(ctx context.Context) (int, error) { return c.count(ctx) }

// AccountEdge is an account and its cursor.
type AccountEdge struct {
	Cursor string
	Node   *Account
}

// AccountConnection is a page of accounts.
type AccountConnection struct {
	Edges    []*AccountEdge
	PageInfo *PageInfo
	count    Counter
}

// NewAccountConnection builds a connection whose totalCount comes from count.
func NewAccountConnection(edges []*AccountEdge, info *PageInfo, count Counter) *AccountConnection {
	return &AccountConnection{Edges: edges, PageInfo: info, count: count}
}

// Nodes lists the page's accounts.
func (c *AccountConnection) Nodes() []*Account {
	out := make([]*Account, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node
	}
	return out
}

// TotalCount counts every matching account.
func (c *AccountConnection) TotalCount(ctx context.Context) (int, error) { return c.count(ctx) }

// CardEdge is a card and its cursor.
type CardEdge struct {
	Cursor string
	Node   *Card
}

// CardConnection is a page of cards.
type CardConnection struct {
	Edges    []*CardEdge
	PageInfo *PageInfo
	count    Counter
}

// NewCardConnection builds a connection whose totalCount comes from count.
func NewCardConnection(edges []*CardEdge, info *PageInfo, count Counter) *CardConnection {
	return &CardConnection{Edges: edges, PageInfo: info, count: count}
}

// Nodes lists the page's cards.
func (c *CardConnection) Nodes() []*Card {
	out := make([]*Card, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node
	}
	return out
}

// TotalCount counts every matching card.
func (c *CardConnection) TotalCount(ctx context.Context) (int, error) { return c.count(ctx) }
