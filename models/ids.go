package models

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"time"
)

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a 26-character, time-ordered, unguessable identifier: 48 bits
// of milliseconds then 80 random bits, in lower-case Crockford base32. Time
// order keeps check listings cheap to paginate; the random part makes ids
// safe to hand out as bearer-free references (serverId, checkId).
func NewID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return idEncoding.EncodeToString(b[:])
}
