package mixer

// ring is a fixed-capacity FIFO of samples. When a push does not fit, the
// oldest samples are overwritten (and counted by the caller): the newest
// audio is the one worth keeping in a live conference. It does no locking;
// its owner holds the lock that guards it.
type ring struct {
	buf        []int16
	head, size int
}

func newRing(capacity int) ring { return ring{buf: make([]int16, capacity)} }

// reset empties the ring.
func (r *ring) reset() { r.head, r.size = 0, 0 }

// len returns the number of samples held.
func (r *ring) len() int { return r.size }

// push appends pcm and returns how many old samples it overwrote.
func (r *ring) push(pcm []int16) (dropped int) {
	c := len(r.buf)
	if len(pcm) >= c { // keep only the newest c samples
		dropped = r.size + len(pcm) - c
		copy(r.buf, pcm[len(pcm)-c:])
		r.head, r.size = 0, c
		return dropped
	}
	if over := r.size + len(pcm) - c; over > 0 {
		r.head = (r.head + over) % c
		r.size -= over
		dropped = over
	}
	tail := (r.head + r.size) % c
	n := copy(r.buf[tail:], pcm)
	copy(r.buf, pcm[n:])
	r.size += len(pcm)
	return dropped
}

// pop moves up to len(dst) samples into dst and returns how many.
func (r *ring) pop(dst []int16) int {
	n := min(len(dst), r.size)
	c := len(r.buf)
	first := copy(dst[:n], r.buf[r.head:min(c, r.head+n)])
	copy(dst[first:n], r.buf)
	r.head = (r.head + n) % c
	r.size -= n
	return n
}

// discard drops the n oldest samples (n <= len).
func (r *ring) discard(n int) {
	r.head = (r.head + n) % len(r.buf)
	r.size -= n
}
