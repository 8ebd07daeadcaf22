// Package sql is quern's only user of TiDB's MySQL parser: it parses
// statements and binds them against a Catalog into typed logical plans
// (package planner), with MySQL's name resolution and semantics.
//
//	text ──parse (TiDB)──▶ AST ──bind──▶ Statement
//	                                      ├─ *Query (SELECT/UNION/EXPLAIN): a planner.Node
//	                                      ├─ *CreateTable, *Insert, *DropTable, *ShowTables, *Describe
//	                                      └─ *SetVariable
//
// Errors are *Error values with a kind (syntax, unsupported, name, type)
// and the 1-based line and column of the construct they are about; unknown
// names suggest the nearest known one. Correlated aggregate and EXISTS
// subqueries are decorrelated into joins here; uncorrelated subqueries stay
// placeholders that the engine runs first. A Session owns one parser (a
// TiDB parser is not safe for concurrent use) and the session variables.
package sql
