package sipdns

import (
	"context"
	"errors"
	"fmt"

	"github.com/miekg/dns"
)

// ErrNoTargets is returned (wrapped) when a URI resolves to no address.
var ErrNoTargets = errors.New("sipdns: no targets")

// lookup answers one question from the cache or, on a miss, from the
// configured servers (ask) in order: a server that fails (timeout, SERVFAIL,
// REFUSED) passes the question to the next; a truncated UDP answer is asked
// again over TCP (RFC 1035 §4.2.1).
func (r *Resolver) lookup(ctx context.Context, name string, qtype uint16) (answer, error) {
	k := cacheKey{name: dns.CanonicalName(name), qtype: qtype}
	if a, ok := r.cache.get(k); ok {
		return a, nil
	}
	// Concurrent misses for one question share one query; they all get the
	// first caller's answer (or error, its context's included).
	v, err, _ := r.flight.Do(k.name+" "+dns.TypeToString[qtype], func() (any, error) {
		return r.ask(ctx, k)
	})
	if err != nil {
		return answer{}, err
	}
	return v.(answer), nil
}

// ask sends the question k to the servers and caches the answer.
func (r *Resolver) ask(ctx context.Context, k cacheKey) (answer, error) {
	qtype := k.qtype
	q := new(dns.Msg)
	q.SetQuestion(k.name, qtype)
	q.RecursionDesired = true
	var errs []error
	for _, server := range r.cfg.Servers {
		msg, err := r.exchange(ctx, q, server)
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if msg.Rcode != dns.RcodeSuccess && msg.Rcode != dns.RcodeNameError {
			errs = append(errs, fmt.Errorf("%s: %s", server, dns.RcodeToString[msg.Rcode]))
			continue
		}
		a, ttl := answerTTL(msg, qtype)
		r.cache.put(k, a, ttl)
		r.log.Debug("dns answer", "name", k.name, "type", dns.TypeToString[qtype],
			"server", server, "records", len(a.rrs), "nxdomain", a.nxdomain, "ttl", ttl)
		return a, nil
	}
	return answer{}, fmt.Errorf("sipdns: %s %s: %w", k.name, dns.TypeToString[qtype], errors.Join(errs...))
}

// exchange sends q to server over UDP, and over TCP when the UDP answer is
// truncated.
func (r *Resolver) exchange(ctx context.Context, q *dns.Msg, server string) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	msg, _, err := r.udp.ExchangeContext(ctx, q, server)
	if err == nil && msg.Truncated {
		msg, _, err = r.tcp.ExchangeContext(ctx, q, server)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", server, err)
	}
	return msg, nil
}
