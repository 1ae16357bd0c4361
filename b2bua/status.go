package b2bua

import "github.com/switchboard/switchboard/cdr"

// reasonPhrase gives the RFC 3261 §21 reason phrase for a status code. All
// status texts Switchboard sends come from here.
func reasonPhrase(code int) string {
	switch code {
	case 100:
		return "Trying"
	case 180:
		return "Ringing"
	case 183:
		return "Session Progress"
	case 200:
		return "OK"
	case 202:
		return "Accepted"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 406:
		return "Not Acceptable"
	case 407:
		return "Proxy Authentication Required"
	case 408:
		return "Request Timeout"
	case 415:
		return "Unsupported Media Type"
	case 416:
		return "Unsupported URI Scheme"
	case 420:
		return "Bad Extension"
	case 423:
		return "Interval Too Brief"
	case 428: // RFC 8224 §13.2
		return "Use Identity Header"
	case 436:
		return "Bad Identity Info"
	case 437:
		return "Unsupported Credential"
	case 438:
		return "Invalid Identity Header"
	case 480:
		return "Temporarily Unavailable"
	case 481:
		return "Call/Transaction Does Not Exist"
	case 482:
		return "Loop Detected"
	case 483:
		return "Too Many Hops"
	case 484:
		return "Address Incomplete"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 491:
		return "Request Pending"
	case 500:
		return "Server Internal Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Server Time-out"
	case 505:
		return "Version Not Supported"
	case 513:
		return "Message Too Large"
	case 600:
		return "Busy Everywhere"
	case 603:
		return "Decline"
	case 604:
		return "Does Not Exist Anywhere"
	case 606:
		return "Not Acceptable"
	}
	switch {
	case code < 200:
		return "Session Progress"
	case code < 300:
		return "OK"
	case code < 400:
		return "Redirection"
	case code < 500:
		return "Client Error"
	case code < 600:
		return "Server Error"
	}
	return "Global Failure"
}

// failureToCaller maps a final failure from the callee side to what the caller
// gets. Redirects are not followed yet and are not leaked (they carry the
// callee side's Contact): they become 480.
func failureToCaller(code int) int {
	switch {
	case code >= 300 && code < 400:
		return 480
	case code == 401 || code == 407:
		// The callee side challenged Switchboard, not the caller: relaying
		// the challenge would leak it and cannot succeed.
		return 403
	case code == 408:
		return 408
	}
	return code
}

// bestFinal picks the response to relay when every fork failed (RFC 3261
// §16.7 step 6, simplified): any 6xx wins; otherwise the lowest class, first
// received within the class.
func bestFinal(codes []int) int {
	best := 0
	for _, c := range codes {
		switch {
		case c >= 600:
			if best < 600 {
				best = c
			}
		case best == 0:
			best = c
		case best < 600 && c/100 < best/100:
			best = c
		}
	}
	if best == 0 {
		return 480
	}
	return best
}

// failureSide is who ended a call that failed with code relayed from the
// callee side: the callee, unless the failure is Switchboard's own (408
// for a transaction timeout, 5xx for transport or server trouble).
func failureSide(code int) string {
	if code == 408 || code >= 500 && code < 600 {
		return cdr.HangupSwitchboard
	}
	return cdr.HangupCallee
}
