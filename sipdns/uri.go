package sipdns

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Transport is a SIP transport as named in a URI's transport parameter.
type Transport string

// The transports RFC 3263 resolves to. TLS is TLS over TCP (a sips: URI or
// the NAPTR service SIPS+D2T).
const (
	UDP Transport = "udp"
	TCP Transport = "tcp"
	TLS Transport = "tls"
)

// DefaultPort is the port RFC 3261 §19.1.2 assigns to a transport when a URI
// names none and no SRV record supplies one: 5061 for TLS, 5060 otherwise.
func (t Transport) DefaultPort() uint16 {
	if t == TLS {
		return 5061
	}
	return 5060
}

// srvPrefix is the SRV owner-name prefix for t (RFC 3263 §4.1): _sip._udp,
// _sip._tcp or _sips._tcp.
func (t Transport) srvPrefix() string {
	switch t {
	case UDP:
		return "_sip._udp."
	case TCP:
		return "_sip._tcp."
	default:
		return "_sips._tcp."
	}
}

// URI is the part of a SIP or SIPS URI that RFC 3263 resolution reads. A
// caller fills it from its parsed URI (for sipgo: Secure is Scheme ==
// "sips", Transport is the transport URI parameter, Port 0 when absent).
type URI struct {
	// Secure is true for a sips: URI; its targets are TLS only.
	Secure bool
	// Host is the host part: a domain name, an IPv4 address or an IPv6
	// address with or without brackets.
	Host string
	// Port is the explicit port, 0 when the URI has none.
	Port uint16
	// Transport is the transport URI parameter ("udp", "tcp", "tls"), empty
	// when absent. Case does not matter.
	Transport string
}

// String renders u as a sip: or sips: URI for logs and errors.
func (u URI) String() string {
	var b strings.Builder
	if u.Secure {
		b.WriteString("sips:")
	} else {
		b.WriteString("sip:")
	}
	host := strings.Trim(u.Host, "[]")
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	b.WriteString(host)
	if u.Port != 0 {
		fmt.Fprintf(&b, ":%d", u.Port)
	}
	if u.Transport != "" {
		b.WriteString(";transport=" + strings.ToLower(u.Transport))
	}
	return b.String()
}

// numericHost returns the host as an address when it is an IP literal.
func (u URI) numericHost() (netip.Addr, bool) {
	a, err := netip.ParseAddr(strings.Trim(u.Host, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// transport returns the transport the URI pins, if any (RFC 3263 §4.1): the
// transport parameter, mapped to TLS for a sips: URI. A sips: URI with
// transport=udp is an error: SIPS needs a reliable transport (RFC 3261 §26.2.2).
func (u URI) transport() (Transport, bool, error) {
	p := strings.ToLower(u.Transport)
	switch p {
	case "":
		return "", false, nil
	case "udp":
		if u.Secure {
			return "", false, fmt.Errorf("sipdns: %s: sips with transport=udp", u)
		}
		return UDP, true, nil
	case "tcp":
		if u.Secure {
			return TLS, true, nil
		}
		return TCP, true, nil
	case "tls":
		return TLS, true, nil
	default:
		return "", false, fmt.Errorf("sipdns: %s: unsupported transport %q", u, u.Transport)
	}
}

// FromSIP returns the part of a sipgo URI that resolution reads. The maddr
// parameter, when present, replaces the host (RFC 3263 §4: "the TARGET is
// the maddr parameter of the URI, if present, otherwise the host value").
// A port outside 1-65535 counts as absent.
func FromSIP(u sip.Uri) URI {
	out := URI{Secure: strings.EqualFold(u.Scheme, "sips"), Host: u.Host}
	if u.Port > 0 && u.Port <= 65535 {
		out.Port = uint16(u.Port)
	}
	if u.UriParams != nil {
		if m, ok := u.UriParams.Get("maddr"); ok && m != "" {
			out.Host = m
		}
		out.Transport, _ = u.UriParams.Get("transport")
	}
	return out
}
