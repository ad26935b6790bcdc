package handlertest

import (
	"crypto/sha256"
	"sync"
)

type syncMutex = sync.Mutex

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
