package models

import (
	"encoding/base64"
	"strings"
)

// Global ids are base64url of "<Type>:<key>", the parts of a composite key joined by the
// unit separator, which identifiers may not contain (control characters are rejected).
// They are opaque to clients; only this file reads or writes them.

const keySep = "\x1f"

// NodeType names the kind of object a global id refers to.
type NodeType string

// The kinds of Node.
const (
	NodeCustomer NodeType = "Customer"
	NodeAccount  NodeType = "Account"
	NodeCard     NodeType = "Card"
)

// CustomerNodeID is the global id of a customer.
func CustomerNodeID(sourceCustomerID string) string {
	return encodeNodeID(NodeCustomer, sourceCustomerID)
}

// AccountNodeID is the global id of an account.
func AccountNodeID(sourceAccountID string) string { return encodeNodeID(NodeAccount, sourceAccountID) }

// CardNodeID is the global id of a card.
func CardNodeID(k CardKey) string {
	return encodeNodeID(NodeCard, k.SourceAccountID, k.SourceCustomerID, k.Last4)
}

func encodeNodeID(t NodeType, parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(string(t) + ":" + strings.Join(parts, keySep)))
}

// ParseNodeID splits a global id into its type and key parts; ok is false for anything this
// server did not issue.
func ParseNodeID(id string) (t NodeType, parts []string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return "", nil, false
	}
	typ, key, found := strings.Cut(string(raw), ":")
	if !found || key == "" {
		return "", nil, false
	}
	parts = strings.Split(key, keySep)
	for _, p := range parts {
		if !ValidText(p) { // a forged id; no stored key holds such text
			return "", nil, false
		}
	}
	switch t = NodeType(typ); {
	case t == NodeCustomer && len(parts) == 1, t == NodeAccount && len(parts) == 1, t == NodeCard && len(parts) == 3:
		return t, parts, true
	}
	return "", nil, false
}
