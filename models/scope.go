package models

import "slices"

// Scope is the set of organizations a caller may see and change. Every store query takes one
// and applies it in SQL. The zero Scope sees nothing; AllOrganizations sees everything.
type Scope struct {
	all  bool
	orgs []string
}

// AllOrganizations is the scope of an admin or of a server running without authentication.
func AllOrganizations() Scope { return Scope{all: true} }

// Organizations is the scope of a caller limited to the given organizations.
func Organizations(ids ...string) Scope {
	return Scope{orgs: slices.Clone(ids)}
}

// All reports whether the scope covers every organization.
func (s Scope) All() bool { return s.all }

// Orgs lists the organizations of a limited scope (nil when All).
func (s Scope) Orgs() []string {
	if s.all {
		return nil
	}
	return s.orgs
}

// Allows reports whether the scope covers the organization.
func (s Scope) Allows(org string) bool { return s.all || slices.Contains(s.orgs, org) }

// Narrow intersects the scope with the organizations a filter asks for; a nil filter leaves
// the scope as it is. Asking for a foreign organization yields an empty scope, not an error.
func (s Scope) Narrow(filter []string) Scope {
	if filter == nil {
		return s
	}
	var out []string
	for _, o := range filter {
		if s.Allows(o) && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return Scope{orgs: out}
}
