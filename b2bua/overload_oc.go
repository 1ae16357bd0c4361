package b2bua

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// SIP overload control (RFC 7339), loss algorithm, both ways.
//
// As a server: an upstream proxy that says it takes overload control (an
// "oc" parameter in its top Via, RFC 7339 §5.1) gets, on each stateless
// 503 admission control sends it, the share of its new calls it should
// hold back: oc=<percent>;oc-algo="loss";oc-validity=<ms>;oc-seq=<stamp>
// on that Via (§5.2). The percent is the share of new INVITEs refused in
// the last sample second (the sampler in overload.go), at least 10 while
// refusing, so a Kamailio or another Switchboard in front stops sending
// what would be refused anyway instead of retrying into the overload.
//
// As a client: every INVITE to a trunk advertises support (oc;
// oc-algo="loss"), and a trunk's response that carries oc=<percent> on
// our Via makes Switchboard hold back that share of the new calls to the
// trunk, at random, for oc-validity (default 500 ms), oc-seq guarding
// against a stale one (§5.3-5.4). A held-back call is refused like one
// over max_calls (503, or the route's fallback); oc=0 ends the reduction.

// ocValidity is how long our reduction request holds.
const ocValidity = 2 * time.Second

// ocCounter counts the new INVITEs admission control saw and refused, for
// the reduction it asks upstream clients for.
type ocCounter struct {
	offered atomic.Uint64
	pct     atomic.Int64 // the reduction asked now (0-100)
}

// sample turns the last period's counts into the reduction to ask for.
func (o *ocCounter) sample(offered, refused uint64) {
	if refused == 0 || offered == 0 {
		o.pct.Store(0)
		return
	}
	o.pct.Store(min(100, max(10, int64(refused*100/offered))))
}

// ocViaParams is what a stateless 503 adds to an upstream client's top
// Via when that Via offers overload control; "" otherwise.
func (o *overload) ocViaParams(via string) string {
	if !viaOffersOC(via) {
		return ""
	}
	pct := max(o.oc.pct.Load(), 10) // this INVITE is being refused
	now := time.Now()
	return ";oc=" + strconv.FormatInt(pct, 10) + `;oc-algo="loss";oc-validity=` +
		strconv.FormatInt(ocValidity.Milliseconds(), 10) + ";oc-seq=" + strconv.FormatInt(now.Unix(), 10) + "." + strconv.Itoa(now.Nanosecond()/1000)
}

// viaOffersOC reports whether a raw Via value has an "oc" parameter.
func viaOffersOC(via string) bool {
	_, params, ok := strings.Cut(via, ";")
	if !ok {
		return false
	}
	for p := range strings.SplitSeq(params, ";") {
		name, _, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(name, "oc") {
			return true
		}
	}
	return false
}

// advertiseOC marks our top Via of a request to a trunk as supporting
// overload control with the loss algorithm (RFC 7339 §5.1).
func advertiseOC(req *sip.Request) {
	if v := req.Via(); v != nil {
		v.Params.Add("oc", "")
		v.Params.Add("oc-algo", `"loss"`)
	}
}

// trunkOC is the reduction a trunk asked of us.
type trunkOC struct {
	mu    sync.Mutex
	pct   int
	until time.Time
	seq   float64
}

// note takes the overload control parameters of a response from the
// trunk (on our own top Via).
func (t *trunkOC) note(res *sip.Response, now time.Time) {
	v := res.Via()
	if v == nil {
		return
	}
	val, ok := v.Params.Get("oc")
	if !ok || val == "" {
		return
	}
	pct, err := strconv.Atoi(val)
	if err != nil || pct < 0 || pct > 100 {
		return
	}
	validity := 500 * time.Millisecond
	if ms, err := strconv.Atoi(v.Params.GetOr("oc-validity", "")); err == nil && ms >= 0 {
		validity = time.Duration(ms) * time.Millisecond
	}
	seq, _ := strconv.ParseFloat(v.Params.GetOr("oc-seq", "0"), 64)
	t.mu.Lock()
	defer t.mu.Unlock()
	if seq < t.seq {
		return // older than the one in force (RFC 7339 §5.4)
	}
	t.pct, t.until, t.seq = pct, now.Add(validity), seq
}

// holdBack reports whether a new call to the trunk is to be held back
// now: with the share the trunk asked for, at random, while valid.
func (t *trunkOC) holdBack(now time.Time) bool {
	t.mu.Lock()
	pct, until := t.pct, t.until
	t.mu.Unlock()
	return pct > 0 && now.Before(until) && rand.IntN(100) < pct
}
