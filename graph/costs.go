package graph

import (
	"context"
	"encoding/json"
	"strings"

	gqlcomplexity "github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Measuring an operation (its shape, its complexity) walks the whole document, and gqlgen's
// complexity walk coerces the arguments of every field on the way: for a small query that
// was the largest part of preparing it. A parsed document is shared by every request that
// sends the same text (gqlgen's query cache), so what depends only on the document is
// measured once per operation, and the complexity once per operation and values of the
// variables it can depend on.

// costCacheSize bounds the operations remembered (as gqlgen's query cache does, it keeps
// their documents alive while they are remembered).
const costCacheSize = 1000

// complexityLimit is gqlgen's extension.FixedComplexityLimit, with the complexity of an
// operation remembered for the values of the variables that can change it. The number, the
// statistics it leaves for other extensions and the error are the same.
type complexityLimit struct {
	limit int
	es    graphql.ExecutableSchema
	seen  *lru.Cache[complexityKey, int]
}

type complexityKey struct {
	op   *ast.OperationDefinition
	vars string // the values of the variables the complexity can depend on (complexityVars)
}

// maxComplexityKey bounds the variable values a remembered complexity is keyed by; an
// operation with longer ones is measured every time.
const maxComplexityKey = 512

func newComplexityLimit(limit int) *complexityLimit {
	seen, _ := lru.New[complexityKey, int](costCacheSize)
	return &complexityLimit{limit: limit, seen: seen}
}

// ExtensionName is gqlgen's, so that extension.GetComplexityStats finds the statistics.
func (c *complexityLimit) ExtensionName() string { return "ComplexityLimit" }

func (c *complexityLimit) Validate(es graphql.ExecutableSchema) error {
	c.es = es
	return nil
}

func (c *complexityLimit) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	op := rc.Doc.Operations.ForName(rc.OperationName)
	n := c.complexity(ctx, op, rc.Variables)
	rc.Stats.SetExtension(c.ExtensionName(), &extension.ComplexityStats{Complexity: n, ComplexityLimit: c.limit})
	if n > c.limit {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", n, c.limit)
		errcode.Set(err, "COMPLEXITY_LIMIT_EXCEEDED")
		return err
	}
	return nil
}

func (c *complexityLimit) complexity(ctx context.Context, op *ast.OperationDefinition, vars map[string]any) int {
	key, ok := complexityVars(op, vars)
	if !ok {
		return gqlcomplexity.Calculate(ctx, c.es, op, vars)
	}
	k := complexityKey{op: op, vars: key}
	if n, ok := c.seen.Get(k); ok {
		return n
	}
	n := gqlcomplexity.Calculate(ctx, c.es, op, vars)
	c.seen.Add(k, n)
	return n
}

// complexityVars encodes the values of the variables of op that the complexity can depend on,
// or reports false when they are too long to key a cache by.
//
// The walk reads a field's arguments only through the schema's complexity functions
// (complexity in limits.go), which price page sizes (first, last) and lists of ids, and
// which gqlgen calls only when all of the field's arguments coerce (otherwise the field
// costs 1 plus its selection). A variable declared String, ID or Boolean, not a list, can
// change neither: validation has checked that its position takes that type, where any value
// of it coerces, and no complexity function reads such a value. Every other variable (Int,
// a list, an enum, an input object, a custom scalar) is part of the key.
func complexityVars(op *ast.OperationDefinition, vars map[string]any) (string, bool) {
	var b strings.Builder
	for _, def := range op.VariableDefinitions {
		if def.Type.Elem == nil {
			switch def.Type.NamedType {
			case "String", "ID", "Boolean":
				continue
			}
		}
		b.WriteString(def.Variable)
		v, given := vars[def.Variable]
		if !given {
			b.WriteString("!") // absent, which is not null
		} else {
			if jsonBudget(v, maxComplexityKey-b.Len()) < 0 {
				return "", false // too long a key: not encoded (a batch of customers, say)
			}
			enc, err := json.Marshal(v)
			if err != nil {
				return "", false
			}
			b.WriteString("=")
			b.Write(enc)
		}
		b.WriteString(";")
		if b.Len() > maxComplexityKey {
			return "", false
		}
	}
	return b.String(), true
}

// jsonBudget is budget less a lower bound of the length of v's JSON, a decoded JSON value; it
// stops looking once the budget is spent.
func jsonBudget(v any, budget int) int {
	switch x := v.(type) {
	case string:
		return budget - len(x) - 2
	case []any:
		budget -= 2
		for i, e := range x {
			if budget < 0 {
				break
			}
			if i > 0 {
				budget-- // the comma
			}
			budget = jsonBudget(e, budget)
		}
		return budget
	case map[string]any:
		budget -= 2
		for k, e := range x {
			if budget < 0 {
				break
			}
			budget = jsonBudget(e, budget-len(k)-3)
		}
		return budget
	}
	return budget - 1
}
