package b2bua

import (
	"fmt"
	"slices"
	"time"

	"github.com/switchboard/switchboard/config"
)

// Routing policy by source (issue 13, item 5).
//
//	caller (user + groups, or trunk) + dialled number
//	  ├─ from a trunk, number in its dids ──► that user (route "did")
//	  └─ routes in order: source allows the caller? match? trunk up? ──► target
//	       target trunk fails with a fallback_on status ──► the route's
//	       next fallback trunk, same call (least-cost routing with fallback)
//
// Destination classes a user may not dial (international, premium) are
// refused by the toll-fraud guard (call_guard.go, package guard), whatever
// the route: one place decides a class of service's barring.

// Caller is who places a call, as routing sees it: a user and its
// groups, or a trunk.
type Caller struct {
	User   string
	Groups []string
	Trunk  *Trunk
}

// routingCaller is the call's caller for the router.
func (c *Call) routingCaller(pol *policy) Caller {
	if c.fromTrunk != nil {
		return Caller{Trunk: c.fromTrunk}
	}
	return Caller{User: c.caller, Groups: pol.users[c.caller].Groups}
}

// allows reports whether a route's source condition admits the caller.
func (from Caller) allows(p *config.RoutePolicy) bool {
	trunk := ""
	if from.Trunk != nil {
		trunk = from.Trunk.Name
	}
	return p.Matches(from.User, from.Groups, trunk)
}

// didTarget is the user a trunk's DID map gives the dialled number.
func didTarget(from Caller, dialled string) (Target, bool) {
	if from.Trunk == nil {
		return Target{}, false
	}
	user, ok := from.Trunk.DIDs[dialled]
	if !ok {
		return Target{}, false
	}
	return Target{Kind: TargetUser, Number: user, Rule: "did"}, true
}

// fallBack sends the call to its route's next fallback trunk when the
// trunk it went to failed with one of the route's fallback_on statuses;
// false when there is none (the failure is relayed).
func (c *Call) fallBack(code int) bool {
	t := &c.target
	if t.Kind != TargetTrunk || len(t.Fallback) == 0 || !slices.Contains(t.FallbackOn, code) {
		return false
	}
	var last *outTx
	for _, o := range c.outs {
		if o.fork {
			last = o
		}
	}
	if last == nil {
		return false
	}
	for len(t.Fallback) > 0 {
		next := t.Fallback[0]
		t.Fallback = t.Fallback[1:]
		c.rec.TrunkTargets = append(c.rec.TrunkTargets, fmt.Sprintf("trunk %s → %d", t.Trunk.Name, code))
		if c.fromTrunk != nil && !c.fromTrunk.mayTransitTo(next.Name) {
			continue // transit stays closed for pairs not allowed
		}
		c.log.Info("route fallback", "leg", "b", "from_trunk", t.Trunk.Name, "to_trunk", next.Name, "status", code)
		c.releaseTrunk()
		if !c.takeTrunk(next) {
			continue
		}
		t.Trunk = next
		c.rec.Trunk = next.Name
		c.failover = nil
		if err := c.fork(*t, c.epB, last.leg.Session, last.req.Body(), last.offer); err != nil {
			c.log.Info("fallback trunk not reachable", "leg", "b", "trunk", next.Name, "error", err)
			continue
		}
		return true
	}
	return false
}

// full reports whether the trunk has max_calls calls up or no call left
// of its max_cps this second; routing passes over it as over a down trunk.
func (t *Trunk) full() bool {
	return (t.maxCalls > 0 && t.active.Load() >= t.maxCalls) || !t.rate.ready(time.Now())
}

// takeTrunk counts the call in t's max_calls and max_cps; false when t is
// full, with the limit named in c.trunkRefusal.
func (c *Call) takeTrunk(t *Trunk) bool {
	if t.maxCalls > 0 && t.active.Add(1) > t.maxCalls {
		t.active.Add(-1)
		c.trunkRefusal = "trunk at max_calls"
		return false
	}
	refusal := ""
	switch {
	case !t.rate.take(c.now()):
		refusal = "trunk at max_cps"
	case t.oc.holdBack(c.now()):
		refusal = "trunk overload control" // RFC 7339 (overload_oc.go)
	}
	if refusal != "" {
		if t.maxCalls > 0 {
			t.active.Add(-1)
		}
		c.trunkRefusal = refusal
		return false
	}
	c.trunkSlot = t
	return true
}

// releaseTrunk counts the call out of its trunk's max_calls.
func (c *Call) releaseTrunk() {
	if t := c.trunkSlot; t != nil {
		if t.maxCalls > 0 {
			t.active.Add(-1)
		}
		c.trunkSlot = nil
	}
}
