package observe

import (
	"sync"
	"sync/atomic"
)

// MaxOperationNames bounds the operation names that get a label value of their own.
const MaxOperationNames = 100

// OtherOperation is the label value of unnamed operations and of names beyond the bound.
const OtherOperation = "other"

// maxNameLength bounds one label value: a GraphQL name has no length limit.
const maxNameLength = 64

// OperationNames bounds the operation label's cardinality: the first max distinct names seen
// keep their own value, every later one (and every unnamed operation) is OtherOperation.
//
// Operation names are chosen by clients, so a label taken from them as they come would let any
// client create series without end. An allow-list would have to be kept in step with every
// client release; a pattern alone bounds the shape of names, not their number. First come is
// bounded and needs no configuration; in practice a deployment's clients send a few dozen
// names, which are all seen long before the bound. A name only reaches here once its document
// parsed and validated (and, with tokens, once the caller authenticated), so garbage cannot
// claim the slots. The cost: after a restart, names get slots in the order they arrive, so on
// a server flooded with distinct names, which names keep their own value can differ between
// instances; the overflow shows as a growing "other".
type OperationNames struct {
	max   int
	mu    sync.Mutex
	names sync.Map // name -> struct{}; read without the lock on the hot path
	n     atomic.Int64
}

// NewOperationNames bounds names to max distinct values.
func NewOperationNames(max int) *OperationNames { return &OperationNames{max: max} }

// Label is the label value of an operation name.
func (o *OperationNames) Label(name string) string {
	if name == "" || len(name) > maxNameLength {
		return OtherOperation
	}
	if _, ok := o.names.Load(name); ok {
		return name
	}
	if int(o.n.Load()) >= o.max {
		return OtherOperation
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.names.Load(name); ok {
		return name
	}
	if int(o.n.Load()) >= o.max {
		return OtherOperation
	}
	o.names.Store(name, struct{}{})
	o.n.Add(1)
	return name
}
