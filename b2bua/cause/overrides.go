package cause

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Config is a trunk's cause-mapping configuration, as written in YAML:
//
//	causes:
//	  q850_to_sip: {"34": 503, "21": 603}
//	  sip_to_q850: {"486": 17, "5xx": 41}
//
// Keys are strings because YAML map keys reach Go as text; "4xx", "5xx"
// and "6xx" in sip_to_q850 set the cause of every status of that class
// without an entry of its own.
type Config struct {
	// Q850ToSIP maps a Q.850 cause value (1-127) to the SIP failure
	// status (400-699) sent for it.
	Q850ToSIP map[string]int `yaml:"q850_to_sip"`
	// SIPToQ850 maps a SIP status (400-699) or class ("4xx"-"6xx") to
	// the Q.850 cause value (1-127) recorded and sent for it.
	SIPToQ850 map[string]int `yaml:"sip_to_q850"`
}

// Overrides is one trunk's changes to the RFC 3398 tables. The zero value
// and a nil *Overrides change nothing. An Overrides is read-only once
// built and safe for concurrent use.
type Overrides struct {
	toSIP   map[int]int
	fromSIP map[int]int
	// fromClass is the cause for statuses of class N xx, by N; 0 when
	// not set.
	fromClass [7]int
}

// NewOverrides validates cfg and builds its Overrides. Its error joins one
// error for each bad entry, each naming the map and the key (sorted by
// key), such as `sip_to_q850: key "486x": not a SIP status (400-699) or
// class (4xx, 5xx, 6xx)`.
func NewOverrides(cfg Config) (*Overrides, error) {
	o := &Overrides{toSIP: map[int]int{}, fromSIP: map[int]int{}}
	var errs []error
	for _, k := range sortedKeys(cfg.Q850ToSIP) {
		v := cfg.Q850ToSIP[k]
		c, err := strconv.Atoi(strings.TrimSpace(k))
		switch {
		case err != nil || c < 1 || c > MaxCause:
			errs = append(errs, fmt.Errorf("q850_to_sip: key %q: not a Q.850 cause value (1-127)", k))
		case v < 400 || v > 699:
			errs = append(errs, fmt.Errorf("q850_to_sip: key %q: value %d: not a SIP failure status (400-699)", k, v))
		case o.toSIP[c] != 0:
			errs = append(errs, fmt.Errorf("q850_to_sip: key %q: cause %d given twice", k, c))
		default:
			o.toSIP[c] = v
		}
	}
	for _, k := range sortedKeys(cfg.SIPToQ850) {
		v := cfg.SIPToQ850[k]
		key := strings.ToLower(strings.TrimSpace(k))
		if v < 1 || v > MaxCause {
			errs = append(errs, fmt.Errorf("sip_to_q850: key %q: value %d: not a Q.850 cause value (1-127)", k, v))
			continue
		}
		if len(key) == 3 && key[1:] == "xx" && key[0] >= '4' && key[0] <= '6' {
			n := int(key[0] - '0')
			if o.fromClass[n] != 0 {
				errs = append(errs, fmt.Errorf("sip_to_q850: key %q: class %s given twice", k, key))
				continue
			}
			o.fromClass[n] = v
			continue
		}
		s, err := strconv.Atoi(key)
		switch {
		case err != nil || s < 400 || s > 699:
			errs = append(errs, fmt.Errorf("sip_to_q850: key %q: not a SIP status (400-699) or class (4xx, 5xx, 6xx)", k))
		case o.fromSIP[s] != 0:
			errs = append(errs, fmt.Errorf("sip_to_q850: key %q: status %d given twice", k, s))
		default:
			o.fromSIP[s] = v
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return o, nil
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ToSIP is the package's ToSIP with o's q850_to_sip entries applied.
func (o *Overrides) ToSIP(q850 int) int {
	if o != nil {
		if s, ok := o.toSIP[q850]; ok {
			return s
		}
	}
	return ToSIP(q850)
}

// FromSIP is the package's FromSIP with o's sip_to_q850 entries applied:
// an entry for the status first, then one for its class, then the table.
func (o *Overrides) FromSIP(status int) int {
	if o != nil {
		if c, ok := o.fromSIP[status]; ok {
			return c
		}
		if n := status / 100; status >= 400 && n < len(o.fromClass) && o.fromClass[n] != 0 {
			return o.fromClass[n]
		}
	}
	return FromSIP(status)
}

// ForStatus is the package's ForStatus with o's sip_to_q850 entries
// applied.
func (o *Overrides) ForStatus(status int) Reason { return Q850(o.FromSIP(status)) }

// FromResponse is the package's FromResponse with o's sip_to_q850 entries
// applied when the response has no Q.850 Reason.
func (o *Overrides) FromResponse(status int, reasons []Reason) (q850 int, fromReason bool) {
	if c, ok := FromResponse(status, reasons); ok {
		return c, true
	}
	return o.FromSIP(status), false
}

// RelayStatus returns the status to send the caller for a failure response
// of status with reasons from this trunk. A trunk that is a gateway has
// already chosen status by RFC 3398 §7.2.4.1, so it is kept, unless the
// response carries a Q.850 Reason whose cause o has a q850_to_sip entry
// for: that entry is then the status.
func (o *Overrides) RelayStatus(status int, reasons []Reason) int {
	if o == nil {
		return status
	}
	if r, ok := Find(reasons, ProtocolQ850); ok {
		if s, ok := o.toSIP[r.Cause]; ok {
			return s
		}
	}
	return status
}
