package notifier

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
)

// Token purposes.
const (
	purposeConfirm = "c" // confirm a pending subscription; expires
	purposeManage  = "m" // unsubscribe / preferences; valid while the subscription's nonce is
)

// errBadToken is the one answer for every invalid token, so a caller
// learns nothing about why it failed.
var errBadToken error = &fault.Error{Code: fault.Invalid, Field: "token", Msg: "the link is invalid or has expired"}

// claims is what a token carries.
type claims struct {
	Purpose string
	SubID   int64
	Nonce   string
	Expires time.Time // zero: no expiry
}

// signToken encodes c as "payload.mac", both base64url without padding.
func signToken(key []byte, c claims) string {
	exp := int64(0)
	if !c.Expires.IsZero() {
		exp = c.Expires.Unix()
	}
	payload := c.Purpose + "|" + strconv.FormatInt(c.SubID, 10) + "|" + c.Nonce + "|" + strconv.FormatInt(exp, 10)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// parseToken checks a token's signature, purpose and expiry.
func parseToken(key []byte, tok, purpose string, now time.Time) (claims, error) {
	var c claims
	if len(tok) > 512 {
		return c, errBadToken
	}
	p64, mac64, ok := strings.Cut(tok, ".")
	if !ok {
		return c, errBadToken
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	mac, err2 := base64.RawURLEncoding.DecodeString(mac64)
	if err1 != nil || err2 != nil {
		return c, errBadToken
	}
	m := hmac.New(sha256.New, key)
	m.Write(payload)
	if !hmac.Equal(mac, m.Sum(nil)) {
		return c, errBadToken
	}
	parts := strings.Split(string(payload), "|")
	if len(parts) != 4 || parts[0] != purpose {
		return c, errBadToken
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || id <= 0 {
		return c, errBadToken
	}
	exp, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil {
		return c, errBadToken
	}
	c = claims{Purpose: parts[0], SubID: id, Nonce: parts[2]}
	if exp != 0 {
		c.Expires = time.Unix(exp, 0).UTC()
		if !now.Before(c.Expires) {
			return claims{}, fmt.Errorf("%w (expired %s)", errBadToken, c.Expires.Format(time.RFC3339))
		}
	}
	return c, nil
}
