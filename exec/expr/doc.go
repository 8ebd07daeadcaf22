// Package expr evaluates typed scalar expressions (planner.Expr) over Arrow
// record batches, a whole column at a time, and selects rows by a boolean
// mask (FilterRecord).
//
// Compile turns an expression into a tree of nodes once per operator; Eval
// runs it on each batch and returns a new array of the expression's Arrow
// type with one value per row, which the caller releases. A node yields
// either an array or a constant: literals stay constants, calls whose
// arguments are all constant are evaluated once (on first use) and become
// constants, and kernels have typed loops for column-against-constant
// operands, so `l_shipdate <= DATE '1998-09-02'` never builds an array of
// dates.
//
//	planner.Expr ──Compile──▶ node tree ──Eval(batch)──▶ arrow.Array (caller releases)
//	                           │
//	                           ├─ column: the input array, retained
//	                           ├─ literal / constant call: a planner.Value
//	                           └─ call: kernel(args) — a typed loop over whole arrays,
//	                                    NULLs combined as validity bitmaps
//
// Kernels follow MySQL 8 (see planner/functions.go for the type rules and
// the argument encodings): NULL in, NULL out for strict functions,
// three-valued logic, division by zero is NULL, integer and DECIMAL overflow
// are errors naming the expression ("BIGINT value is out of range in
// '(a + b)'"). Values under NULL slots are never trusted: an overflow there
// is not an error. Conditional functions (CASE, IF, COALESCE, IFNULL, AND,
// OR) evaluate their branches over the whole batch; if a branch fails, it is
// evaluated again on only the rows that reach it, so errors appear exactly
// when MySQL's row-at-a-time evaluation would raise them.
//
// An Evaluator keeps per-node scratch space and is not safe for concurrent
// use; compile one per operator instance.
package expr
