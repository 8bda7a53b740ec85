package models

import "fmt"

// ErrorCode classifies request-level failures; the GraphQL error presenter turns it into
// extensions.code. Anything without a code is internal and is shown as a generic message.
type ErrorCode string

// Request-level error codes (REFERENCE.md, "Request errors").
const (
	ErrBadUserInput       ErrorCode = "BAD_USER_INPUT"
	ErrUnauthenticated    ErrorCode = "UNAUTHENTICATED"
	ErrForbidden          ErrorCode = "FORBIDDEN"
	ErrServiceUnavailable ErrorCode = "SERVICE_UNAVAILABLE"
	ErrInternal           ErrorCode = "INTERNAL_SERVER_ERROR"
)

// Error is an error whose message is safe to show to the caller.
type Error struct {
	Code    ErrorCode
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf builds a coded error with a caller-safe message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// UserError is a problem with a mutation's input at a JSON path into that input, such as
// customers[3].accounts[0].cards[1].last4 or patch.country.
type UserError struct {
	Path    string
	Code    UserErrorCode
	Message string
}

func (e UserError) Error() string { return e.Path + ": " + e.Message }
