package models

import (
	"strconv"
	"strings"
	"sync"
)

// rowsInsert is the statement the batched writers send for a batch of rows.
//
// On PostgreSQL it is one statement for every batch size: the rows arrive
// as one array per column and are unnested,
//
//	INSERT INTO t (a, b) SELECT * FROM unnest($1::text[], $2::timestamptz[])
//
// so each connection parses and plans it once, and the driver encodes a
// few arrays instead of a parameter per value. (A multi-row VALUES list
// was a different statement for each batch size, planned afresh until the
// plan cache settled, with an expression per value for the executor to set
// up on every run: a measured part of the database's CPU per check.)
//
// SQLite has no arrays: there it is a multi-row VALUES list with a ? per
// value, built once per batch size.
type rowsInsert struct {
	table string
	cols  []string // column names, in the order of the arguments
	// pgTypes are the PostgreSQL element types of the column arrays, in
	// the order of cols.
	pgTypes []string
	tail    string // what follows the rows, e.g. " ON CONFLICT DO NOTHING"

	mu     sync.Mutex
	byRows map[int]string // SQLite: the statement for n rows
	pg     string
}

// statement returns the INSERT for n rows: the unnest form on PostgreSQL,
// whose arguments are one slice per column (checkArrays, for example), and on SQLite
// the VALUES form, whose arguments are the rows' values one row after the
// other.
func (s *rowsInsert) statement(db *DB, n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if db.Dialect == "postgres" {
		if s.pg == "" {
			s.pg = s.unnest()
		}
		return s.pg
	}
	if q, ok := s.byRows[n]; ok {
		return q
	}
	var sb strings.Builder
	s.head(&sb)
	sb.WriteString(" VALUES ")
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		sb.WriteString(strings.Repeat("?,", len(s.cols)-1))
		sb.WriteString("?)")
	}
	sb.WriteString(s.tail)
	if s.byRows == nil {
		s.byRows = map[int]string{}
	}
	q := sb.String()
	s.byRows[n] = q
	return q
}

func (s *rowsInsert) head(sb *strings.Builder) {
	sb.WriteString("INSERT INTO ")
	sb.WriteString(s.table)
	sb.WriteString(" (")
	sb.WriteString(strings.Join(s.cols, ", "))
	sb.WriteByte(')')
}

func (s *rowsInsert) unnest() string {
	var sb strings.Builder
	s.head(&sb)
	sb.WriteString(" SELECT * FROM unnest(")
	for i, t := range s.pgTypes {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('$')
		sb.WriteString(strconv.Itoa(i + 1))
		sb.WriteString("::")
		sb.WriteString(t)
		sb.WriteString("[]")
	}
	sb.WriteByte(')')
	sb.WriteString(s.tail)
	return sb.String()
}
