package models

import (
	"strings"
	"sync"
)

// rowsInsert builds a multi-row INSERT for a batch of n rows in the
// database's placeholder style, once per batch size: the batched writers
// send one statement for many rows, and the batch sizes repeat.
type rowsInsert struct {
	head string // "INSERT INTO t (a, b) VALUES "
	cols int
	tail string // what follows the rows, e.g. " ON CONFLICT DO NOTHING"

	mu     sync.Mutex
	byRows map[int]string
}

// statement returns the INSERT for n rows.
func (s *rowsInsert) statement(db *DB, n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.byRows[n]; ok {
		return q
	}
	var sb strings.Builder
	sb.WriteString(s.head)
	arg := 0
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for j := range s.cols {
			if j > 0 {
				sb.WriteByte(',')
			}
			arg++
			db.bindVar(&sb, arg)
		}
		sb.WriteByte(')')
	}
	sb.WriteString(s.tail)
	if s.byRows == nil {
		s.byRows = map[int]string{}
	}
	q := sb.String()
	s.byRows[n] = q
	return q
}
