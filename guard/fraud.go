package guard

import (
	"net/netip"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// Class is a destination class: dialled numbers matching Re need the
// class's Name in the caller's allow list.
type Class struct {
	Name string
	Re   *regexp.Regexp
}

// Limits are one user's toll-fraud limits.
type Limits struct {
	// MaxCalls bounds the user's concurrent calls (0: unbounded).
	MaxCalls int
	// CallsPerHour bounds the calls the user starts in any hour (0: unbounded).
	CallsPerHour int
	// Allow lists the destination classes the user may dial.
	Allow []string
}

// Refusal says why Fraud refused a call; Reason is for the caller's
// response and the CDR.
type Refusal struct {
	Event  string // EventCallLimit or EventDestination
	Reason string // "max calls reached", "calls per hour reached", "destination class international not allowed"
}

// usage is one user's live calls and recent call starts.
type usage struct {
	active int
	starts []time.Time // within the last hour, oldest first
}

// Fraud enforces per-user concurrent calls, calls per hour and destination
// classes.
type Fraud struct {
	now    func() time.Time
	events *Events

	mu      sync.Mutex
	classes []Class
	users   map[string]*usage
}

// NewFraud returns a Fraud with destination classes, the clock now (nil:
// time.Now) and the events log.
func NewFraud(classes []Class, now func() time.Time, events *Events) *Fraud {
	if now == nil {
		now = time.Now
	}
	return &Fraud{now: now, events: events, classes: classes, users: map[string]*usage{}}
}

// SetClasses replaces the destination classes (reload).
func (f *Fraud) SetClasses(classes []Class) {
	f.mu.Lock()
	f.classes = classes
	f.mu.Unlock()
}

// ClassOf returns the first destination class dialled matches ("" for none).
func (f *Fraud) ClassOf(dialled string) string {
	f.mu.Lock()
	classes := f.classes
	f.mu.Unlock()
	for _, c := range classes {
		if c.Re.MatchString(dialled) {
			return c.Name
		}
	}
	return ""
}

// Admit decides whether user, calling from src, may start a call to
// dialled under lim. Admitted, it returns a release func to call exactly
// once when the call ends; refused, a Refusal (already logged).
func (f *Fraud) Admit(user string, src netip.Addr, dialled string, lim Limits) (release func(), refused *Refusal) {
	if class := f.ClassOf(dialled); class != "" && !contains(lim.Allow, class) {
		r := &Refusal{Event: EventDestination, Reason: "destination class " + class + " not allowed"}
		f.events.Log(r.Event, src, "user", user, "dialled", dialled, "class", class)
		return nil, r
	}
	now := f.now()
	f.mu.Lock()
	u := f.users[user]
	if u == nil {
		u = &usage{}
		f.users[user] = u
	}
	cut := 0
	for cut < len(u.starts) && now.Sub(u.starts[cut]) >= time.Hour {
		cut++
	}
	u.starts = u.starts[cut:]
	var r *Refusal
	switch {
	case lim.MaxCalls > 0 && u.active >= lim.MaxCalls:
		r = &Refusal{Event: EventCallLimit, Reason: "max calls reached"}
	case lim.CallsPerHour > 0 && len(u.starts) >= lim.CallsPerHour:
		r = &Refusal{Event: EventCallLimit, Reason: "calls per hour reached"}
	default:
		u.active++
		u.starts = append(u.starts, now)
	}
	active := u.active
	f.mu.Unlock()
	if r != nil {
		f.events.Log(r.Event, src, "user", user, "dialled", dialled, "reason", r.Reason, "active", strconv.Itoa(active))
		return nil, r
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			if u := f.users[user]; u != nil {
				u.active--
				if u.active <= 0 && len(u.starts) == 0 {
					delete(f.users, user)
				}
			}
			f.mu.Unlock()
		})
	}, nil
}

// Active returns user's concurrent calls.
func (f *Fraud) Active(user string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.users[user]; u != nil {
		return u.active
	}
	return 0
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
