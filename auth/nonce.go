package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"sync"
	"time"
)

// Nonce layout (before base64url): issue time (8 bytes, Unix ns, big endian)
// | random (8 bytes) | HMAC-SHA256(key, time|random|realm) truncated to 16
// bytes. The server keeps no state to validate a nonce (RFC 7616 §3.3
// suggests time-stamp ":" H(time-stamp ":" ETag ":" secret-data)); the random
// part makes every nonce unique so nc can be tracked per nonce.
const (
	nonceTimeLen = 8
	nonceRandLen = 8
	nonceMACLen  = 16
	nonceRawLen  = nonceTimeLen + nonceRandLen + nonceMACLen
)

var nonceEnc = base64.RawURLEncoding

// newNonce returns a fresh nonce issued at now.
func (a *Authenticator) newNonce(now time.Time) string {
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint64(raw[:nonceTimeLen], uint64(now.UnixNano()))
	rand.Read(raw[nonceTimeLen : nonceTimeLen+nonceRandLen])
	copy(raw[nonceTimeLen+nonceRandLen:], a.nonceMAC(raw[:nonceTimeLen+nonceRandLen]))
	return nonceEnc.EncodeToString(raw[:])
}

// checkNonce verifies a nonce's MAC and returns its issue time (Unix ns).
func (a *Authenticator) checkNonce(nonce string) (int64, bool) {
	if nonceEnc.DecodedLen(len(nonce)) != nonceRawLen {
		return 0, false
	}
	var raw [nonceRawLen]byte
	if n, err := nonceEnc.Decode(raw[:], []byte(nonce)); err != nil || n != nonceRawLen {
		return 0, false
	}
	if !hmac.Equal(raw[nonceTimeLen+nonceRandLen:], a.nonceMAC(raw[:nonceTimeLen+nonceRandLen])) {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(raw[:nonceTimeLen])), true
}

func (a *Authenticator) nonceMAC(msg []byte) []byte {
	m := hmac.New(sha256.New, a.key[:])
	m.Write(msg)
	m.Write([]byte(a.realm))
	return m.Sum(nil)[:nonceMACLen]
}

// maxTrackedNonces bounds the nonce-count table (about 100 bytes an entry).
const maxTrackedNonces = 1 << 16

// ncTable remembers the highest nonce-count seen per nonce so that a replayed
// request (same nonce, nc not higher) is refused (RFC 7616 §3.3, §5.12). Only
// nonces that carried a correct digest enter the table, so an attacker
// without a password cannot fill it. Entries leave when their nonce expires;
// when the table is full the oldest entry leaves early and every nonce issued
// up to that entry's issue time is then treated as stale, so eviction can
// never re-open a replay window.
type ncTable struct {
	mu        sync.Mutex
	last      map[string]uint32
	fifo      []ncEntry // insertion order; fifo[head:] are live
	head      int
	max       int
	watermark int64 // nonces issued at or before this and not in last are stale
}

type ncEntry struct {
	nonce  string
	issued int64
}

func newNCTable(max int) *ncTable {
	return &ncTable{last: make(map[string]uint32), max: max, watermark: -1 << 63}
}

// check records nc for nonce and reports whether it is higher than any nc
// seen before with that nonce. expiredBefore is the issue time (Unix ns)
// before which nonces have expired.
func (t *ncTable) check(nonce string, issued int64, nc uint32, expiredBefore int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.head < len(t.fifo) && t.fifo[t.head].issued < expiredBefore {
		t.pop()
	}
	if last, ok := t.last[nonce]; ok {
		if nc <= last {
			return false
		}
		t.last[nonce] = nc
		return true
	}
	if issued <= t.watermark {
		return false
	}
	t.last[nonce] = nc
	t.fifo = append(t.fifo, ncEntry{nonce, issued})
	for len(t.last) > t.max {
		e := t.pop()
		t.watermark = max(t.watermark, e.issued)
	}
	return true
}

// pop removes the oldest entry; t.mu is held.
func (t *ncTable) pop() ncEntry {
	e := t.fifo[t.head]
	t.fifo[t.head] = ncEntry{}
	t.head++
	delete(t.last, e.nonce)
	if t.head > 1024 && t.head*2 > len(t.fifo) {
		t.fifo = append(t.fifo[:0], t.fifo[t.head:]...)
		t.head = 0
	}
	return e
}

// len returns the number of tracked nonces.
func (t *ncTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.last)
}
