// Package fault is the error vocabulary every layer of eolwatch shares: one
// error type saying what kind of failure happened (Code), which input field is
// at fault (Field) and why, in a plain sentence (Msg).
//
// Storage, the domain service, the notifier and the catalog service return
// *Error values (or wrap sentinels that are *Error values, such as
// store.ErrNotFound); the HTTP toolkit (internal/httpjson) turns Code into a
// status, the command line into an exit code, the dashboard into an error
// page. The package has no dependencies, so the lowest layers may use it.
package fault

import (
	"errors"
	"fmt"
)

// Code is the kind of a failure, independent of how it is shown.
type Code string

// The codes. Each names what the caller did wrong or what is missing; a
// failure without a code is an internal error.
const (
	Invalid      Code = "invalid"      // bad input (HTTP 400; a usage error on the command line)
	Unauthorized Code = "unauthorized" // no, an unknown or a revoked credential (401)
	Forbidden    Code = "forbidden"    // a valid credential without the right (403)
	NotFound     Code = "not_found"    // the thing asked for does not exist (404)
	// MethodNotAllowed: the path exists but not with this method (405).
	MethodNotAllowed Code = "method_not_allowed"
	Conflict         Code = "conflict"    // the request clashes with what is stored (409)
	TooLarge         Code = "too_large"   // a body or a list past its limit (413)
	Unsupported      Code = "unsupported" // a content type or encoding not accepted (415)
	TooMany          Code = "too_many"    // rate-limited (429)
	Unavailable      Code = "unavailable" // the feature is off in this server, or it is busy (503)
	// InsufficientStorage: the server cannot store the request because its
	// disk (or its database's quota) is full (507).
	InsufficientStorage Code = "insufficient_storage"
)

// Error is a failure with a code, the input field at fault ("" for none)
// and a message. Err, when set, is the cause (errors.Unwrap returns it).
type Error struct {
	Code  Code
	Field string
	Msg   string
	Err   error
}

// Error returns Msg, or the cause's message when Msg is empty.
func (e *Error) Error() string {
	if e.Msg == "" && e.Err != nil {
		return e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an *Error with a formatted message. A %w verb in format makes
// the wrapped error the cause.
func New(code Code, field, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Field: field, Msg: err.Error(), Err: errors.Unwrap(err)}
}

// Invalidf returns a bad-input error naming field.
func Invalidf(field, format string, args ...any) *Error {
	return New(Invalid, field, format, args...)
}

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var fe *Error
	ok := errors.As(err, &fe)
	return fe, ok
}

// CodeOf returns the code of the first *Error in err's chain, or "" when
// there is none (an internal error).
func CodeOf(err error) Code {
	if fe, ok := As(err); ok {
		return fe.Code
	}
	return ""
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// InvalidField returns a bad-input error naming field, whose message is
// "field: problem" (problem says what is wrong: "is required").
func InvalidField(field, problem string) *Error {
	return &Error{Code: Invalid, Field: field, Msg: field + ": " + problem}
}
