package standin

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// rpcError is an error the real server sends as a gRPC status plus trailers: the client reads
// the "exception" trailer, not the status, to tell a deleted stream from other failures.
type rpcError struct {
	st      *status.Status
	trailer metadata.MD
}

func (e *rpcError) Error() string              { return e.st.Message() }
func (e *rpcError) GRPCStatus() *status.Status { return e.st }

func newRPCError(code codes.Code, msg string, trailer ...string) *rpcError {
	return &rpcError{st: status.New(code, msg), trailer: metadata.Pairs(trailer...)}
}

// The errors below carry the codes, messages and trailers of the real server's RpcExceptions.

func streamDeletedStatus(stream string) *rpcError {
	return newRPCError(codes.FailedPrecondition, fmt.Sprintf("Event stream '%s' is deleted.", stream),
		"exception", "stream-deleted", "stream-name", stream)
}

func wrongExpectedStatus(op string, e *wrongExpectedError) *rpcError {
	return newRPCError(codes.FailedPrecondition,
		fmt.Sprintf("%s failed due to WrongExpectedVersion. Stream: %s, Expected version: %d, Actual version: %d",
			op, e.stream, e.expected, e.current),
		"exception", "wrong-expected-version", "stream-name", e.stream,
		"expected-version", strconv.FormatInt(int64(e.expected), 10),
		"actual-version", strconv.FormatInt(e.current, 10))
}

func missingMetadataStatus(key string) *rpcError {
	return newRPCError(codes.InvalidArgument, fmt.Sprintf("Required Metadata Property '%s' is missing", key),
		"exception", "missing-required-metadata-property", "required-metadata-properties", "type,content-type")
}

func maxAppendSizeStatus() *rpcError {
	return newRPCError(codes.InvalidArgument, fmt.Sprintf("Maximum Append Size of %d Exceeded.", maxAppendSize),
		"exception", "maximum-append-size-exceeded", "maximum-append-size", strconv.Itoa(maxAppendSize))
}

// readAllInvalidPositionStatus is how the real ReadAll reports a position inside a record: its
// enumerator turns the InvalidPosition result into an unknown error.
func readAllInvalidPositionStatus() error {
	return status.Error(codes.Unknown, "Unexpected ReadAllResult: InvalidPosition")
}

// subscriptionInvalidPositionStatus is how a real $all subscription reports it.
func subscriptionInvalidPositionStatus() error {
	return status.Error(codes.InvalidArgument, "Trying to read from an invalid position.")
}

// storeError turns what the store refused into what the real server answers.
func storeError(op string, err error) error {
	var deleted *streamDeletedError
	var wrong *wrongExpectedError
	switch {
	case errors.As(err, &deleted):
		return streamDeletedStatus(deleted.stream)
	case errors.As(err, &wrong):
		return wrongExpectedStatus(op, wrong)
	}
	return status.Error(codes.Internal, err.Error())
}

// unaryTrailers and streamTrailers attach an rpcError's trailers to the call.
func unaryTrailers(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	var rpcErr *rpcError
	if errors.As(err, &rpcErr) {
		_ = grpc.SetTrailer(ctx, rpcErr.trailer)
	}
	return resp, err
}

func streamTrailers(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	err := handler(srv, ss)
	var rpcErr *rpcError
	if errors.As(err, &rpcErr) {
		ss.SetTrailer(rpcErr.trailer)
	}
	return err
}
