package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"herald/domain"
	"herald/notify"
)

// Error codes in extensions.code.
const (
	CodeBadUserInput = "BAD_USER_INPUT"
	CodeNotFound     = "NOT_FOUND"
	CodeInternal     = "INTERNAL_SERVER_ERROR"
	CodeUnavailable  = "UNAVAILABLE"

	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeConflict        = "CONFLICT"
)

// inputPath renames the field paths of a validation error from the command's names to the
// GraphQL argument's (events[3].level -> input[3].level; level -> filter.level).
func inputPath(err error, from, to string) error {
	return renameFields(err, func(name string) string {
		if from == "" {
			return to + "." + name
		}
		if rest, ok := strings.CutPrefix(name, from); ok {
			return to + rest
		}
		return name
	})
}

// eventInputNames turns the names validation gives an event's fields, those of the JSON
// form (recordEventsJSON, Kafka), into EventInput's.
var eventInputNames = strings.NewReplacer(
	".resource.user_id", ".resource.userId",
	".source.servicename", ".source.serviceName",
	".source.hostid", ".source.hostId",
	".source.base_url", ".source.baseUrl",
	".source.request_id", ".source.requestId",
)

// renameFields renames the field paths of a validation error; other errors pass as they are.
func renameFields(err error, rename func(string) string) error {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	out := &domain.ValidationError{Subject: v.Subject, Fields: make([]domain.FieldError, len(v.Fields))}
	for i, f := range v.Fields {
		out.Fields[i] = domain.FieldError{Field: rename(f.Field), Message: f.Message}
	}
	return out
}

// ErrorPresenter turns resolver errors into GraphQL errors with extensions.code. Errors
// herald does not expect are logged and shown as a generic internal error, so that no
// internal detail leaks to clients. A variable the schema refuses (a required field left out,
// an unknown enum value) is a BAD_USER_INPUT with its field, like the errors herald finds
// itself; schema names the enum values to use.
func ErrorPresenter(logger *slog.Logger, schema *ast.Schema) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		if gerr.Extensions == nil {
			gerr.Extensions = map[string]any{}
		}
		var v *domain.ValidationError
		var notShown *writeNotShownError
		if field, ok := refusedField(err, gerr); ok {
			v = &domain.ValidationError{Fields: []domain.FieldError{{Field: field, Message: variableProblem(gerr.Message, schema)}}}
			err = v
		}
		switch {
		case errors.As(err, &v):
			gerr.Message = "invalid input: " + v.Problems()
			gerr.Extensions["code"] = CodeBadUserInput
			fields := make([]map[string]string, len(v.Fields))
			for i, f := range v.Fields {
				fields[i] = map[string]string{"field": f.Field, "message": f.Message}
			}
			gerr.Extensions["fields"] = fields
			if len(v.Fields) > 0 {
				gerr.Extensions["field"] = v.Fields[0].Field
			}
		case errors.Is(err, domain.ErrEventNotFound), errors.Is(err, domain.ErrConfigurationNotFound),
			errors.Is(err, domain.ErrAccountNotFound), errors.Is(err, domain.ErrUserNotFound), errors.Is(err, domain.ErrTokenNotFound):
			gerr.Extensions["code"] = CodeNotFound
		case errors.Is(err, domain.ErrUnauthenticated):
			gerr.Extensions["code"] = CodeUnauthenticated
		case errors.Is(err, domain.ErrForbidden):
			gerr.Extensions["code"] = CodeForbidden
		case errors.Is(err, domain.ErrConcurrency), errors.Is(err, errConflict), errors.Is(err, notify.ErrBackfillRunning), errors.As(err, new(*notify.KindDisabledError)):
			gerr.Extensions["code"] = CodeConflict
		case errors.Is(err, errViewsBehind):
			gerr.Extensions["code"] = CodeUnavailable
		case errors.As(err, &notShown):
			gerr.Extensions["code"] = CodeUnavailable
			if notShown.position != 0 {
				gerr.Extensions["position"] = notShown.position
			}
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			gerr.Message = "the request was cancelled or timed out"
			gerr.Extensions["code"] = CodeUnavailable
		case isInputCoercion(err):
			gerr.Extensions["code"] = CodeBadUserInput
		case gerr.Extensions["code"] == nil:
			logger.ErrorContext(ctx, "request failed", "path", gerr.Path.String(), "error", err)
			gerr.Message = "internal error; the server log has the details"
			gerr.Extensions["code"] = CodeInternal
		}
		return gerr
	}
}

// refusedField tells whether gerr is the schema's refusal of an input, a variable's
// (["variable", "in", 1, "level"]) or an argument's read into its Go type (["recordEvents",
// "input", 1, "level"]), and names the field at fault as the client sent it: in[1].level,
// input[1].level.
func refusedField(err error, gerr *gqlerror.Error) (string, bool) {
	if len(gerr.Path) < 2 || gerr.Rule != "" || (gerr.Path[0] != ast.PathName("variable") && !isInputCoercion(err)) {
		return "", false
	}
	return gerr.Path[1:].String(), true
}

// variableProblem says what gqlparser or gqlgen found wrong with an input in herald's words,
// naming the values of an enum.
func variableProblem(msg string, schema *ast.Schema) string {
	switch msg {
	case "must be defined", "cannot be null":
		return "is required"
	case "unknown field":
		return "is no field of this input; see the schema for the fields"
	}
	if m := gqlparserKindError.FindStringSubmatch(msg); m != nil {
		var want string
		switch read := m[1] != ""; m[3] { // read: a number gqlparser could not read as one
		case "Int":
			want = "a whole number (Int)"
			if read {
				want += " that fits in 64 bits"
			}
		case "Float":
			want = "a number (Float)"
			if read {
				want += " no larger than 1.8e308"
			}
		case "Boolean":
			want = "true or false (Boolean)"
		default:
			want = "a " + m[3]
		}
		return "must be " + want + notKind(m[2])
	}
	if m := gqlparserObjectError.FindStringSubmatch(msg); m != nil {
		return "must be an object (" + m[1] + ")" + notKind(m[2])
	}
	if msg == "enums must be ints or strings" {
		return "must be one of the enum's values, as a string"
	}
	if value, enum, ok := strings.Cut(msg, " is not a valid "); ok && schema != nil {
		if def := schema.Types[enum]; def != nil && def.Kind == ast.Enum {
			values := make([]string, len(def.EnumValues))
			for i, v := range def.EnumValues {
				values[i] = v.Name
			}
			return fmt.Sprintf("%s is not a value of %s; use %s (in capitals)", value, enum, strings.Join(values, ", "))
		}
	}
	return msg
}

// gqlparser's refusals of a variable's kind, in Go's words: "cannot use bool as String",
// "cannot use value 0 as Int" (for 25.7: gqlparser shows what it failed to read it into),
// "cannot use value +Inf as Float" (for 1e400) and "must be a EventFilter, not a slice".
var (
	gqlparserKindError   = regexp.MustCompile(`^cannot use (value )?(\S+) as (\w+)$`)
	gqlparserObjectError = regexp.MustCompile(`^must be a (\w+), not a (\w+)$`)
)

// notKind names the JSON kind a Go reflect kind came from, as ", not a boolean". gqlparser
// sees a JSON string and a JSON number alike as a Go string (json.Number), and a value it
// could not read as one ("value 0" for 25.7) as neither: for those it says nothing.
func notKind(kind string) string {
	switch kind {
	case "bool":
		return ", not a boolean"
	case "map":
		return ", not an object"
	case "slice", "array":
		return ", not a list"
	}
	return ""
}

// isInputCoercion tells whether gqlgen failed to read an argument (a bad Timestamp or JSON
// scalar), which is the client's mistake.
func isInputCoercion(err error) bool {
	var gerr *gqlerror.Error
	if !errors.As(err, &gerr) {
		return false
	}
	return gerr.Rule == "" && gerr.Err != nil && !errors.Is(gerr.Err, errInternal)
}

var errInternal = errors.New("internal")

// errConflict marks errors of writes that clash with what exists (a taken name).
var errConflict = errors.New("conflict")
