package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envName is the environment variable that sets a flag: HERALD_DATA_DIR for --data-dir.
func envName(flag string) string {
	return "HERALD_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// notFromEnv are flags no environment variable sets: --yes answers a question about
// deleting data, which a variable left in a shell or a container would answer for good.
var notFromEnv = map[string]bool{"help": true, "yes": true}

// bindEnv sets every flag of cmd not given on the command line from its environment variable,
// and warns on cmd's stderr of HERALD_* variables that no herald command reads.
func bindEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || notFromEnv[f.Name] {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if e := setFrom(cmd.Flags(), f, v, envName(f.Name)); e != nil {
				err = fmt.Errorf("%s=%q (--%s): %w", envName(f.Name), v, f.Name, e)
			}
		}
	})
	warnUnknownEnv(cmd, os.Environ(), cmd.ErrOrStderr())
	return err
}

// sourceAnnotation is the flag annotation that says where a flag's value came from when it
// was not the command line: the environment variable, or the config file's line and key.
const sourceAnnotation = "herald_source"

// setFrom sets f to value, taken from source (HERALD_X, "config line 3: kafka.group").
func setFrom(flags *pflag.FlagSet, f *pflag.Flag, value, source string) error {
	if err := flags.Set(f.Name, value); err != nil {
		return errors.New(valueProblem(err))
	}
	if f.Annotations == nil {
		f.Annotations = map[string][]string{}
	}
	f.Annotations[sourceAnnotation] = []string{source}
	return nil
}

// givenOnCommandLine tells whether f was set on the command line, rather than left at its
// default or set from the environment or the config file.
func givenOnCommandLine(f *pflag.Flag) bool {
	return f.Changed && len(f.Annotations[sourceAnnotation]) == 0
}

// flagWithSource names a flag that was set and, unless it was the command line, where its
// value came from: "--kafka-group (HERALD_KAFKA_GROUP)".
func flagWithSource(f *pflag.Flag) string {
	if s := f.Annotations[sourceAnnotation]; len(s) > 0 {
		return fmt.Sprintf("--%s (%s)", f.Name, s[0])
	}
	return "--" + f.Name
}

// noteFlagSources makes the errors of cmd's commands say where the flags they name got their
// values, for those set from the environment or the config file: "--kafka-sasl-password"
// means little to someone who set HERALD_KAFKA_SASL_PASSWORD.
func noteFlagSources(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		noteFlagSources(c)
	}
	if cmd.RunE == nil {
		return
	}
	run := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error { return withFlagSources(cmd, run(cmd, args)) }
}

// withFlagSources is err with where the flags its message names got their values, when that
// was not the command line; a source the message names already is not repeated.
func withFlagSources(cmd *cobra.Command, err error) error {
	var exit exitError
	if err == nil || errors.As(err, &exit) {
		return err
	}
	msg := err.Error()
	var notes []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		source := f.Annotations[sourceAnnotation]
		if len(source) == 0 || strings.Contains(msg, source[0]) || !namesFlag(msg, f.Name) {
			return
		}
		notes = append(notes, fmt.Sprintf("--%s is set by %s", f.Name, source[0]))
	})
	if len(notes) == 0 {
		return err
	}
	return &sourcedError{err: err, msg: msg + " (" + strings.Join(notes, "; ") + ")"}
}

// sourcedError is an error whose message says where the flags it names were set.
type sourcedError struct {
	err error
	msg string
}

func (e *sourcedError) Error() string { return e.msg }
func (e *sourcedError) Unwrap() error { return e.err }

// namesFlag tells whether msg names the flag --name, not merely one whose name begins so.
func namesFlag(msg, name string) bool {
	for rest := msg; ; {
		i := strings.Index(rest, "--"+name)
		if i < 0 {
			return false
		}
		rest = rest[i+2+len(name):]
		if rest == "" || !(rest[0] == '-' || rest[0] >= 'a' && rest[0] <= 'z' || rest[0] >= '0' && rest[0] <= '9') {
			return true
		}
	}
}

// warnUnknownEnv writes one line to w for each HERALD_* variable of env that no flag of any
// herald command reads, naming the closest one's variable when it is close: a typo would
// otherwise leave a setting at its default unnoticed. It only warns, since one environment
// often serves several commands with different flags. It costs a map lookup per HERALD_*
// variable; herald's other commands are looked at only for a variable cmd does not read.
func warnUnknownEnv(cmd *cobra.Command, env []string, w io.Writer) {
	var known map[string]bool // every flag's variable, of every command; built on the first miss
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "HERALD_") || testVariable(name) {
			continue
		}
		flag := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, "HERALD_"), "_", "-"))
		if notFromEnv[flag] {
			fmt.Fprintf(w, "herald: warning: %s is ignored: --%s is taken from the command line only\n", name, flag)
			continue
		}
		if f := cmd.Flags().Lookup(flag); f != nil && envName(f.Name) == name {
			continue
		}
		if known == nil {
			known = map[string]bool{}
			collectEnvNames(cmd.Root(), known)
		}
		if known[name] {
			continue
		}
		msg := fmt.Sprintf("herald: warning: %s is set but no herald command has a flag it sets", name)
		if closest := closestName(name, known, 2); closest != "" {
			msg += "; did you mean " + closest + "?"
		}
		fmt.Fprintln(w, msg)
	}
}

// testVariable tells whether name is one of the settings of herald's own tests and
// benchmarks (HERALD_TEST_KURRENTDB_URL), which no command reads.
func testVariable(name string) bool {
	return strings.HasPrefix(name, "HERALD_TEST_") || strings.HasPrefix(name, "HERALD_BENCH_")
}

// collectEnvNames adds the variable of every flag of cmd and of the commands below it.
func collectEnvNames(cmd *cobra.Command, names map[string]bool) {
	add := func(f *pflag.Flag) {
		if !notFromEnv[f.Name] {
			names[envName(f.Name)] = true
		}
	}
	cmd.Flags().VisitAll(add)
	cmd.PersistentFlags().VisitAll(add)
	for _, c := range cmd.Commands() {
		collectEnvNames(c, names)
	}
}

// closestName is the name of names nearest to name, if it is at most maxDistance edits away.
func closestName(name string, names map[string]bool, maxDistance int) string {
	best, bestDistance := "", maxDistance+1
	for n := range names {
		if d := editDistance(name, n); d < bestDistance || d == bestDistance && n < best {
			best, bestDistance = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	row := make([]int, len(b)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		diagonal := row[0]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			diagonal, row[j] = row[j], min(row[j]+1, row[j-1]+1, diagonal+cost)
		}
	}
	return row[len(b)]
}

// pflagValueError is pflag's error for a value a flag refuses: the value, the flag (with its
// shorthand: "-o, --output") and the value's own error.
var pflagValueError = regexp.MustCompile(`^invalid argument ("(?:[^"\\]|\\.)*") for "(?:-\S, )?--([^"]+)" flag: (.*)$`)

// explainFlagValue is the root's flag error function. It names a refused value with what its
// flag wants, where pflag shows Go's parse error: --batch-size "abc": want a whole number,
// not invalid argument "abc" for "--batch-size" flag: strconv.ParseInt: parsing "abc": ...
func explainFlagValue(_ *cobra.Command, err error) error {
	m := pflagValueError.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	return fmt.Errorf("--%s %s: %s", m[2], m[1], flagWants(m[1], m[3]))
}

// valueProblem says why a flag refused a value, from the error pflag's Set returned.
func valueProblem(err error) string {
	if m := pflagValueError.FindStringSubmatch(err.Error()); m != nil {
		return flagWants(m[1], m[3])
	}
	return err.Error()
}

// flagWants turns the error of a flag's value (quoted, as pflag quotes it) into what the flag
// wants, for the built-in types, whose errors are Go's parse errors; herald's own flag types
// say what they want themselves, and the value is named once.
func flagWants(quoted, msg string) string {
	msg = strings.TrimPrefix(msg, quoted+": ")
	var want string
	switch {
	case strings.HasPrefix(msg, "strconv.ParseBool"):
		want = "true or false"
	case strings.HasPrefix(msg, "strconv.ParseFloat"):
		want = "a number, such as 2.5"
	case strings.HasPrefix(msg, "strconv.ParseUint"):
		want = "a whole number, 0 or more"
	case strings.HasPrefix(msg, "strconv.ParseInt"):
		want = "a whole number"
	case strings.HasPrefix(msg, "time: "):
		want = "a duration such as 500ms, 30s, 5m or 1h30m"
	default:
		return msg // herald's own flag types say what they want
	}
	if strings.HasSuffix(msg, "value out of range") {
		return "is out of range"
	}
	return "want " + want
}
