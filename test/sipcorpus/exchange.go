package sipcorpus

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Default timings of a Client.
const (
	DefaultQuiet = 500 * time.Millisecond
	DefaultWait  = 3 * time.Second
)

// Client exchanges corpus messages with a server. The zero value uses
// DefaultQuiet and DefaultWait.
type Client struct {
	// Quiet is how long silence must last to count as no answer (and, when
	// a close is expected, how long to wait for it after the answers).
	Quiet time.Duration
	// Wait bounds the wait for the answers an expectation names.
	Wait time.Duration
}

func (c Client) timings() (quiet, wait time.Duration) {
	quiet, wait = c.Quiet, c.Wait
	if quiet <= 0 {
		quiet = DefaultQuiet
	}
	if wait <= 0 {
		wait = DefaultWait
	}
	return quiet, wait
}

// Exchange sends data to addr over a fresh UDP socket or TCP connection
// and returns what came back: the final status codes, sorted ("1xx" when
// only a provisional came), "+close" when the server closed the
// connection, "+unparsable" when a TCP answer could not be parsed, or
// "drop" when nothing came. want (an outcome) says how many finals to wait
// for and whether a close should follow; a want with no answer in it waits
// Quiet. The error is set only when the exchange could not take place.
func (c Client) Exchange(transport, addr string, data []byte, want string) (string, error) {
	quiet, wait := c.timings()
	answers := 0
	for _, w := range strings.Split(want, "+") {
		if w != "drop" && w != "wait" && w != "close" {
			answers++
		}
	}
	wantClose := strings.HasSuffix(want, "close")
	deadline := time.Now().Add(wait)
	if answers == 0 {
		deadline = time.Now().Add(quiet)
	}
	conn, err := net.DialTimeout(transport, addr, wait)
	if err != nil {
		return "", fmt.Errorf("dial %s %s: %w", transport, addr, err)
	}
	defer conn.Close()
	if _, err := conn.Write(data); err != nil {
		return "", fmt.Errorf("write %s %s: %w", transport, addr, err)
	}

	var finals []string
	provisional, closed, unparsable := false, false, false
	handle := func(m sip.Message) {
		r, ok := m.(*sip.Response)
		switch {
		case !ok:
		case r.StatusCode < 200:
			provisional = true
		default:
			finals = append(finals, strconv.Itoa(r.StatusCode))
		}
	}
	ps := sip.NewParser().NewSIPStream()
	buf := make([]byte, 65536)
	for time.Now().Before(deadline) {
		_ = conn.SetReadDeadline(deadline)
		n, err := conn.Read(buf)
		if n > 0 {
			if transport == "udp" {
				if m, perr := sip.ParseMessage(buf[:n]); perr == nil {
					handle(m)
				}
			} else if perr := ps.ParseSIPStream(buf[:n], handle); perr != nil && !errors.Is(perr, sip.ErrParseSipPartial) {
				unparsable = true
			}
		}
		if err != nil {
			var ne net.Error
			if transport == "tcp" && !(errors.As(err, &ne) && ne.Timeout()) {
				closed = true
			}
			break
		}
		if answers > 0 && len(finals) >= answers {
			if !wantClose {
				break
			}
			deadline = time.Now().Add(quiet) // the close should follow promptly
		}
	}
	slices.Sort(finals)
	out := finals
	if len(out) == 0 && provisional {
		out = []string{"1xx"}
	}
	if unparsable {
		out = append(out, "unparsable")
	}
	if closed {
		out = append(out, "close")
	}
	if len(out) == 0 {
		return "drop", nil
	}
	return strings.Join(out, "+"), nil
}

// isRejection reports whether a status code means "your request is
// malformed or asks for what is not supported" (RFC 3261 §8.2 and §21.4),
// or that the server broke (500): an accepted message must get none.
func isRejection(code string) bool {
	switch code {
	case "400", "406", "413", "414", "415", "416", "420", "421", "500", "501", "505", "513":
		return true
	}
	return false
}

// Matches compares an outcome ("401", "400+close", "drop") with an
// expectation: "accept" stands for any answer that is not a rejection, and
// "wait" and "drop" both mean nothing came back.
func Matches(want, got string) bool {
	norm := func(s string) string {
		if s == "wait" || s == "" {
			return "drop"
		}
		return s
	}
	wt, gt := strings.Split(norm(want), "+"), strings.Split(norm(got), "+")
	if len(wt) != len(gt) {
		return false
	}
	for i := range wt {
		switch {
		case wt[i] == gt[i]:
		case wt[i] == "accept" && gt[i] != "drop" && gt[i] != "close" && gt[i] != "unparsable" && !isRejection(gt[i]):
		default:
			return false
		}
	}
	return true
}
