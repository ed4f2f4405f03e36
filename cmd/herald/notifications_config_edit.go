package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"herald/domain"
)

// settingKeys are the settings each kind takes through --set, with how to read their values.
var settingKeys = map[domain.EndpointKind]map[string]string{
	domain.KindEmail:   {"host": "text", "port": "int", "username": "text", "password": "secret", "useTls": "tls", "from": "text", "to": "list"},
	domain.KindGitHub:  {"apiUrl": "text", "owner": "text", "repository": "text", "accessToken": "secret", "milestone": "int", "labels": "list", "assignees": "list"},
	domain.KindJira:    {"url": "text", "username": "text", "apiToken": "secret", "projectKey": "text", "issueType": "text", "priority": "text", "assignee": "text", "labels": "list"},
	domain.KindSlack:   {"webhookUrl": "secret"},
	domain.KindTeams:   {"webhookUrl": "secret"},
	domain.KindWebhook: {"url": "text", "username": "text", "password": "secret", "hmacSecret": "secret", "headers": "header"},
}

// settingDefaults are the values of the settings that have a default, which --set key=
// (nothing after the =) restores: removing such a setting means going back to its default.
// An email port's default is its useTls's (emailPort).
var settingDefaults = map[domain.EndpointKind]map[string]any{
	domain.KindEmail:  {"useTls": strings.ToUpper(string(domain.EmailStartTLS))},
	domain.KindGitHub: {"apiUrl": domain.DefaultGitHubAPIURL},
	domain.KindJira:   {"issueType": domain.DefaultJiraIssueType},
}

// settingAliases are other names --set takes for a setting: "header", which reads better for
// one header at a time, was the only name of "headers" once.
var settingAliases = map[string]string{"header": "headers"}

// configFlags are the flags of `config add` and `config edit`.
type configFlags struct {
	name, description, account string
	noVerifyTLS                bool
	set, selectors, quick      []string
	title, body                string // message templates; "@FILE" reads one from a file
}

// add registers the flags of `config add` (adding) or `config edit`.
func (f *configFlags) add(cmd *cobra.Command, adding bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "name shown in listings")
	fl.StringVar(&f.description, "description", "", "what the configuration is for")
	f.addDelivery(cmd)
	// Back-quoted words name the flag's value in the help (pflag's UnquoteUsage): use them for that only.
	fl.StringArrayVar(&f.selectors, "selector", nil, "a `SELECTOR`: TYPE[,level=info|error|*][,scope=account|global][,resource-type=TYPE|*], e.g. 'user.checks.*,level=*'; repeatable")
	fl.StringArrayVar(&f.quick, "quick-selection", nil, "a quick selection by `NAME`: "+strings.Join(domain.QuickSelectionNames(), ", ")+"; repeatable")
	if adding {
		fl.StringVar(&f.account, "account", "", "account to add the configuration to (admin only; default: yours)")
	}
}

// addDelivery registers the flags that say how notifications are sent, the ones `config test`
// takes as well.
func (f *configFlags) addDelivery(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.noVerifyTLS, "no-verify-tls", false, "do not verify the receiver's TLS certificate")
	fl.StringArrayVar(&f.set, "set", nil, "a setting as `key=value`; key=@FILE reads the value from a file (@- from stdin), which keeps credentials out of shell history; repeatable")
	fl.StringVar(&f.title, "title-template", "", "Go template of the notification title (mail subject, issue title); @FILE reads it from a file; \"\" restores the default")
	fl.StringVar(&f.body, "body-template", "", "Go template of the notification text; @FILE reads it from a file; \"\" restores the default")
}

// settings reads the --set values of a kind into the GraphQL settings input, on top of base.
func (f *configFlags) settings(kind domain.EndpointKind, base map[string]any, stdin io.Reader) (map[string]any, error) {
	keys := settingKeys[kind]
	out := map[string]any{}
	for k, v := range base {
		if keys[k] != "" && keys[k] != "secret" {
			out[k] = v
		}
	}
	given := map[string]bool{}
	restorePort := false
	for _, kv := range f.set {
		key, raw, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--set %q: want key=value", kv)
		}
		name := key // as the API names it
		if n, ok := settingAliases[key]; ok && keys[n] != "" {
			name = n
		}
		if given[name] && keys[name] != "header" { // headers are one --set each
			return nil, fmt.Errorf("--set %s is given twice; give it once", key)
		}
		given[name] = true
		typ, known := keys[name]
		if !known {
			names := make([]string, 0, len(keys))
			for k := range keys {
				names = append(names, k)
			}
			slices.Sort(names)
			return nil, fmt.Errorf("--set %s: %s settings are %s", key, kind, strings.Join(names, ", "))
		}
		if kind == domain.KindEmail && name == "port" && raw == "" {
			restorePort = true
			continue
		}
		if def, ok := settingDefaults[kind][name]; ok && raw == "" {
			out[name] = def
			continue
		}
		value, err := readValue(raw, stdin)
		if errors.Is(err, errEmptyValue) {
			return nil, fmt.Errorf("--set %s: %w; to remove the setting, give --set %s= with nothing after the =", key, err, key)
		}
		if err != nil {
			return nil, fmt.Errorf("--set %s: %w", key, err)
		}
		switch typ {
		case "int":
			n, err := strconv.Atoi(value)
			if err != nil {
				return nil, fmt.Errorf("--set %s=%q: want a whole number", key, value)
			}
			out[name] = n
		case "list":
			// An empty item is a slip (a doubled or trailing comma), said rather than dropped:
			// dropped, it would also shift the numbers the server's errors give the items after it.
			if items := strings.Split(value, ","); strings.TrimSpace(value) != "" {
				for i, item := range items {
					if strings.TrimSpace(item) == "" {
						return nil, fmt.Errorf("--set %s=%q: item %d of %d is empty; remove the extra comma", key, value, i+1, len(items))
					}
				}
			}
			out[name] = splitList(value)
		case "tls":
			// checked here: the server would name the upper-case enum value this sends
			switch domain.EmailSecurity(strings.ToLower(value)) {
			case domain.EmailStartTLS, domain.EmailTLS, domain.EmailNone:
			default:
				return nil, fmt.Errorf("--set %s=%q: use %s, %s or %s", key, value, domain.EmailStartTLS, domain.EmailTLS, domain.EmailNone)
			}
			out[name] = strings.ToUpper(value)
		case "header":
			hname, v, ok := strings.Cut(value, ":")
			if !ok {
				return nil, fmt.Errorf("--set %s=%q: want 'Name: value'", key, value)
			}
			headers, _ := out[name].([]map[string]any)
			out[name] = append(headers, map[string]any{"name": strings.TrimSpace(hname), "value": strings.TrimSpace(v)})
		default:
			out[name] = value
		}
	}
	if kind == domain.KindEmail {
		emailPort(out, base, restorePort, given["useTls"] && !given["port"])
	}
	return out, nil
}

// emailPort sets the port that goes with useTls where the user chose none: after --set port=
// (restore), and when --set useTls changes the security of a configuration whose port is the
// old security's default (changed): 587 under STARTTLS becomes 465 under TLS, while a port
// of the user's own, such as 2525, stays.
func emailPort(out, base map[string]any, restore, changed bool) {
	security := func(settings map[string]any) domain.EmailSecurity {
		s, _ := settings["useTls"].(string)
		if s == "" {
			return domain.EmailStartTLS // the API's default
		}
		return domain.EmailSecurity(strings.ToLower(s))
	}
	if changed {
		port, _ := base["port"].(float64) // as the API's JSON answer decodes; 0 without a base
		restore = port == 0 || int(port) == security(base).DefaultPort()
	}
	if restore {
		out["port"] = security(out).DefaultPort()
	}
}

// errEmptyValue is a file or stdin given as @FILE or @- that holds nothing (a line end at
// most). It is refused: a value read from nothing would remove a credential or a password,
// or restore a default template, where a file was given to set one.
var errEmptyValue = errors.New("it is empty")

// readValue returns raw, or what the file @FILE (stdin for @-) holds, without its final line
// ends.
func readValue(raw string, stdin io.Reader) (string, error) {
	path, ok := strings.CutPrefix(raw, "@")
	if !ok {
		return raw, nil
	}
	var data []byte
	var err error
	name := path
	if path == "-" {
		name = "stdin"
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return "", err
	}
	value := strings.TrimRight(string(data), "\r\n")
	if value == "" {
		return "", fmt.Errorf("read %s: %w", name, errEmptyValue)
	}
	return value, nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// selectorInputs reads --selector values: TYPE[,level=L][,scope=S][,resource-type=R]. The
// parts after the type are the trailing ones of the form key=value (a type pattern has no
// "=" before a comma of its own, but a regex may hold commas).
func (f *configFlags) selectorInputs() ([]map[string]any, error) {
	out := make([]map[string]any, 0, len(f.selectors))
	for _, s := range f.selectors {
		parts := strings.Split(s, ",")
		first := len(parts)
		for first > 1 && selectorOption.MatchString(parts[first-1]) {
			first--
		}
		in := map[string]any{"type": strings.Join(parts[:first], ",")}
		for _, part := range parts[first:] {
			key, v, _ := strings.Cut(part, "=")
			key = strings.ToLower(key)
			field := map[string]string{"level": "level", "scope": "scope", "resource-type": "resourceType"}[key]
			switch {
			case field == "":
				return nil, fmt.Errorf("--selector %q: unknown part %q; a selector is TYPE[,level=LEVEL][,scope=account|global][,resource-type=TYPE]", s, part)
			case in[field] != nil:
				return nil, fmt.Errorf("--selector %q: %s= is given twice; give it once", s, key)
			case key == "scope":
				// checked here: the server would name the upper-case enum value this sends
				if l := strings.ToLower(v); l != "account" && l != "global" {
					return nil, fmt.Errorf("--selector %q: scope=%s: use scope=account or scope=global", s, v)
				}
				v = strings.ToUpper(v)
			}
			in[field] = v
		}
		out = append(out, in)
	}
	return out, nil
}

// selectorOption is a key=value part of a --selector.
var selectorOption = regexp.MustCompile(`^[A-Za-z][A-Za-z-]*=`)

// input builds the ConfigurationInput for kind from the flags on top of a current one.
func (f *configFlags) input(cmd *cobra.Command, kind domain.EndpointKind, current *wireConfiguration) (map[string]any, error) {
	// stdin can be read once: a second @- would read nothing, and be refused as empty
	var fromStdin []string
	for _, kv := range f.set {
		if key, raw, _ := strings.Cut(kv, "="); raw == "@-" {
			fromStdin = append(fromStdin, "--set "+key)
		}
	}
	for flag, value := range map[string]string{"--title-template": f.title, "--body-template": f.body} {
		if value == "@-" && cmd.Flags().Changed(flag[2:]) {
			fromStdin = append(fromStdin, flag)
		}
	}
	if len(fromStdin) > 1 {
		slices.Sort(fromStdin)
		return nil, fmt.Errorf("%s each read stdin (@-), which can be read only once: give one of them @-, and the others @FILE", strings.Join(fromStdin, ", "))
	}
	in := map[string]any{"name": f.name, "verifyTls": !f.noVerifyTLS}
	var base map[string]any
	if current != nil {
		base = current.Settings
		if !cmd.Flags().Changed("name") {
			in["name"] = current.Name
		}
		in["description"] = current.Description
		if !cmd.Flags().Changed("no-verify-tls") {
			in["verifyTls"] = current.VerifyTLS
		}
	}
	if cmd.Flags().Changed("description") {
		in["description"] = f.description
	}
	settings, err := f.settings(kind, base, cmd.InOrStdin())
	if err != nil {
		return nil, err
	}
	in[string(kind)] = settings
	if cmd.Flags().Changed("title-template") || cmd.Flags().Changed("body-template") {
		t := map[string]any{}
		for _, x := range []struct{ flag, key, value string }{{"title-template", "title", f.title}, {"body-template", "body", f.body}} {
			if !cmd.Flags().Changed(x.flag) {
				continue
			}
			v, err := readValue(x.value, cmd.InOrStdin())
			if errors.Is(err, errEmptyValue) {
				return nil, fmt.Errorf("--%s: %w; to restore the default template, give --%s \"\"", x.flag, err, x.flag)
			}
			if err != nil {
				return nil, fmt.Errorf("--%s: %w", x.flag, err)
			}
			t[x.key] = v
		}
		in["templates"] = t
	}
	if len(f.selectors) > 0 || len(f.quick) > 0 {
		sels, err := f.selectorInputs()
		if err != nil {
			return nil, err
		}
		in["selectors"] = sels
		in["quickSelections"] = f.quick
	}
	return in, nil
}

func newConfigAddCommand(url *clientConfig) *cobra.Command {
	var f configFlags
	cmd := &cobra.Command{
		Use:   "add KIND",
		Short: "Add a configuration of an endpoint kind to your account",
		Long: `Add a configuration. Settings are given with --set key=value; selectors with --selector or
--quick-selection (at least one). Quick selections: all (every event of the account),
policy-and-vulnerability (user.checks.*), errors, user-errors, user-infos, user-all,
system-errors, system-infos, system-all, global-all (admin account only).

Settings by kind:
  email:   host, port (587 with starttls, 465 with tls, 25 with none), username, password,
           useTls (starttls|tls|none; starttls), from, to (comma list); a change of useTls
           moves a port left at the old one's default to the new one's
  github:  apiUrl (https://api.github.com), owner, repository, accessToken, milestone, labels,
           assignees
  jira:    url, username, apiToken, projectKey, issueType (Bug), priority, assignee, labels
  (key= removes a setting; one with a default, in parentheses, goes back to it)
  slack:   webhookUrl
  teams:   webhookUrl
  webhook: url, username, password, hmacSecret, headers ('Name: value', repeatable)`,
		Example: `  herald notifications config add slack --name ops --set webhookUrl=@slack-url.txt --quick-selection errors
  herald notifications config add webhook --name audit --set url=https://hooks.example.com/herald \
      --set hmacSecret=@- --selector 'user.checks.*' --selector 'system.*,level=error'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := domain.ParseEndpointKind(args[0])
			if err != nil {
				return fmt.Errorf("KIND %q: use one of email, github, jira, slack, teams, webhook", args[0])
			}
			if f.name == "" {
				return fmt.Errorf("--name is required")
			}
			in, err := f.input(cmd, kind, nil)
			if err != nil {
				return err
			}
			vars := map[string]any{"kind": strings.ToUpper(string(kind)), "input": in}
			if f.account != "" {
				vars["account"] = f.account
			}
			var data struct {
				Created wireConfiguration `json:"createNotificationEndpointConfiguration"`
			}
			q := `mutation($kind: EndpointKind!, $input: ConfigurationInput!, $account: String) { createNotificationEndpointConfiguration(kind: $kind, input: $input, account: $account) { id name } }`
			if err := newClient(url).do(cmd.Context(), q, vars, &data); err != nil {
				return asFlags(err, kind)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Added %s configuration %s (%s)\n", kind, data.Created.ID, data.Created.Name)
			return nil
		},
	}
	f.add(cmd, true)
	return cmd
}

func newConfigEditCommand(url *clientConfig) *cobra.Command {
	var f configFlags
	var revision int
	cmd := &cobra.Command{
		Use:   "edit ID",
		Short: "Edit a configuration: what you give changes, the rest stays",
		Long: `Edit a configuration. Only the settings given with --set change; credentials left out
keep their stored values. --selector and --quick-selection replace all selectors when given.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			current, err := getConfiguration(cmd, url, args[0])
			if err != nil {
				return err
			}
			kind := domain.EndpointKind(strings.ToLower(current.Kind))
			in, err := f.input(cmd, kind, current)
			if err != nil {
				return err
			}
			vars := map[string]any{"id": args[0], "input": in, "rev": current.Revision}
			if cmd.Flags().Changed("expected-revision") {
				vars["rev"] = revision
			}
			q := `mutation($id: ID!, $input: ConfigurationInput!, $rev: Int) { updateNotificationEndpointConfiguration(id: $id, input: $input, expectedRevision: $rev) { id revision } }`
			var out struct {
				Update struct{ Revision int } `json:"updateNotificationEndpointConfiguration"`
			}
			if err := newClient(url).do(cmd.Context(), q, vars, &out); err != nil {
				return asFlags(err, kind)
			}
			if out.Update.Revision == current.Revision {
				fmt.Fprintf(cmd.OutOrStdout(), "Configuration %s is unchanged: it has those values already\n", args[0])
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Updated configuration %s\n", args[0])
			return nil
		},
	}
	f.add(cmd, false)
	cmd.Flags().IntVar(&revision, "expected-revision", 0, "fail if the configuration is no longer at this revision (default: the one just read)")
	return cmd
}

// asFlags rewrites the fields a server names in its refusal of a configuration as the flags
// that set them: "input.slack.webhookUrl: ..." becomes "--set webhookUrl: ...", since the
// GraphQL input's paths mean nothing to a user of the CLI.
func asFlags(err error, kind domain.EndpointKind) error {
	return fieldsAsFlags(err, func(field string) string { return flagOfField(field, kind) })
}

// fieldsAsFlags rewrites each field a server names in its refusal as the flag flagOf gives
// for it ("" leaves the field as it is).
func fieldsAsFlags(err error, flagOf func(field string) string) error {
	var se *serverError
	if !errors.As(err, &se) {
		return err
	}
	for i, g := range se.errs {
		for _, f := range g.refusedFields() {
			if flag := flagOf(f.field); f.field != "" && flag != "" {
				g.Message = strings.ReplaceAll(g.Message, f.field+": ", flag+": ")
			}
		}
		se.errs[i] = g
	}
	return err
}

// flagOfField is the flag that sets a field of ConfigurationInput, or "".
func flagOfField(field string, kind domain.EndpointKind) string {
	rest, ok := strings.CutPrefix(field, "input.")
	if !ok {
		return ""
	}
	if setting, ok := strings.CutPrefix(rest, string(kind)+"."); ok {
		if name, ok := strings.CutPrefix(setting, "headers."); ok { // one header, by its name
			return fmt.Sprintf("--set headers (%s)", name)
		}
		return "--set " + setting
	}
	for _, list := range []struct{ prefix, flag string }{{"selectors[", "--selector"}, {"quickSelections[", "--quick-selection"}} {
		if after, ok := strings.CutPrefix(rest, list.prefix); ok {
			index, part, _ := strings.Cut(after, "]")
			n, err := strconv.Atoi(index)
			if err != nil {
				return ""
			}
			return strings.TrimSpace(fmt.Sprintf("%s #%d %s", list.flag, n+1, strings.TrimPrefix(part, ".")))
		}
	}
	switch rest {
	case "name", "description", "account":
		return "--" + rest
	case "selectors", "quickSelections":
		return "--selector or --quick-selection"
	case "templates":
		return "--title-template or --body-template"
	case "templates.title":
		return "--title-template"
	case "templates.body":
		return "--body-template"
	case "verifyTls":
		return "--no-verify-tls"
	}
	return ""
}
