package graph

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"testing"

	"herald/internal/testtool"
)

// The page's inline script decides what GraphiQL keeps in the browser. These tests run it
// under node against a fake browser (graphiqlHarness): a localStorage, React, and a GraphiQL
// that records the props it is given. Each scenario then uses the storage the page gave
// GraphiQL as GraphiQL does, and reloads the page by running the script again on the same
// localStorage.

// graphiqlHarness is node's side: `node harness.js page.js SCENARIO` prints, as JSON, what
// the scenario observed.
const graphiqlHarness = `'use strict';
const fs = require('node:fs');
const vm = require('node:vm');
const [pageFile, scenario] = process.argv.slice(2);
const pageScript = new vm.Script(fs.readFileSync(pageFile, 'utf8'), { filename: 'page.html' });

// As in a browser's Storage, the keys are own properties: Object.keys lists them.
class FakeStorage {
  getItem(key) { return Object.hasOwn(this, key) ? this[key] : null; }
  setItem(key, value) { this[key] = String(value); }
  removeItem(key) { delete this[key]; }
}

// load runs the page's script on localStorage, as a page load does, and returns the props
// the page gives GraphiQL.
function load(localStorage) {
  let props;
  const GraphiQL = () => null;
  GraphiQL.createFetcher = () => () => null;
  pageScript.runInNewContext({
    localStorage, URL,
    location: { href: 'http://herald.test/' },
    document: { getElementById: () => ({}) },
    React: { createElement: (component, given) => { props = given; return {}; } },
    ReactDOM: { createRoot: () => ({ render() {} }) },
    GraphiQL,
  });
  return props;
}

// The headers the person typed: harnessHeaders on Go's side.
const secret = 'Basic YWRtaW46c2VjcmV0';
const headers = JSON.stringify({ Authorization: secret });
const operation = { query: '{ viewer { user } }', headers };
const saved = (key, ...items) => JSON.stringify({ [key.slice('graphiql:'.length)]: items });
const persisting = 'graphiql:shouldPersistHeaders';

// A localStorage the page has been on since the upgrade step, persisting headers or not.
function browser(persist) {
  const localStorage = new FakeStorage();
  localStorage.setItem('herald:persistHeadersReset', 'done');
  if (persist) localStorage.setItem(persisting, 'true');
  return localStorage;
}
// What GraphiQL's history reads under key: each entry's headers, or null if there is none.
function entries(storage, key) {
  const value = storage.getItem(key);
  return value === null ? null : JSON.parse(value)[key.slice('graphiql:'.length)].map((item) => item.headers ?? null);
}
// GraphiQL saves a run operation in its history and one the person starred in favorites.
function runAndStar(storage) {
  storage.setItem('graphiql:queries', saved('graphiql:queries', operation));
  storage.setItem('graphiql:favorites', saved('graphiql:favorites', { ...operation, favorite: true }));
}
const history = (storage) => ({ queries: entries(storage, 'graphiql:queries'), favorites: entries(storage, 'graphiql:favorites') });
const withCredentials = (localStorage) => Object.keys(localStorage).filter((key) => localStorage.getItem(key).includes(secret)).sort();

const scenarios = {
  notPersisting() {
    const localStorage = browser(false);
    const page = load(localStorage);
    runAndStar(page.storage);
    return {
      shouldPersistHeaders: page.shouldPersistHeaders,
      withCredentials: withCredentials(localStorage),
      inPage: history(page.storage),
      afterReload: history(load(localStorage).storage),
    };
  },
  leftWithoutHeaders() {
    const localStorage = browser(false);
    localStorage.setItem('graphiql:queries', saved('graphiql:queries', { query: operation.query }));
    localStorage.setItem('graphiql:favorites', saved('graphiql:favorites', { query: operation.query, favorite: true }));
    return { afterReload: history(load(localStorage).storage) };
  },
  persisting() {
    const localStorage = browser(true);
    const page = load(localStorage);
    runAndStar(page.storage);
    return {
      withCredentials: withCredentials(localStorage),
      afterReload: history(load(localStorage).storage),
    };
  },
  turningOn() {
    const localStorage = browser(false);
    const page = load(localStorage);
    runAndStar(page.storage);
    page.storage.setItem(persisting, 'true');
    return {
      withCredentials: withCredentials(localStorage),
      afterReload: history(load(localStorage).storage),
    };
  },
  turningOff() {
    const localStorage = browser(true);
    runAndStar(load(localStorage).storage);
    const page = load(localStorage);
    page.storage.setItem(persisting, 'false');
    return {
      withCredentials: withCredentials(localStorage),
      inPage: history(page.storage),
      afterReload: history(load(localStorage).storage),
    };
  },
  malformed() {
    const values = [
      '{"queries":5}', '{"queries":[5]}', '{"queries":[{"query":5}]}', '{"queries":[{"label":{"a":1}}]}',
      '{"queries":[null]}', '{"favorites":[]}', '[]', '5', 'null', '{queries',
    ];
    const dropped = [];
    for (const persist of [true, false]) {
      for (const value of values) {
        const localStorage = browser(persist);
        localStorage.setItem('graphiql:queries', value);
        const given = load(localStorage).storage.getItem('graphiql:queries');
        dropped.push({ persist, value, given, kept: localStorage.getItem('graphiql:queries') });
      }
    }
    const localStorage = browser(true);
    const wellFormed = saved('graphiql:queries', operation, { query: '{ a }', label: null, favorite: false });
    localStorage.setItem('graphiql:queries', wellFormed);
    const wellFormedGiven = load(localStorage).storage.getItem('graphiql:queries') === wellFormed;
    const tabs = (activeTabHeaders) => JSON.stringify({ activeTabIndex: 0, tabs: [{ headers: activeTabHeaders }] });
    const defaultHeaders = [headers, 5, { a: 1 }].map((activeTabHeaders) => {
      const localStorage = browser(true);
      localStorage.setItem('graphiql:tabState', tabs(activeTabHeaders));
      return load(localStorage).defaultHeaders ?? null;
    });
    return { dropped, wellFormedGiven, defaultHeaders };
  },
  upgrade() {
    const localStorage = new FakeStorage();
    localStorage.setItem(persisting, 'true');
    localStorage.setItem('graphiql:headers', headers);
    const page = load(localStorage);
    const first = { persistSetting: localStorage.getItem(persisting), withCredentials: withCredentials(localStorage) };
    page.storage.setItem('graphiql:headers', headers);
    page.storage.setItem(persisting, 'true');
    load(localStorage);
    return { first, afterReload: { persistSetting: localStorage.getItem(persisting), withCredentials: withCredentials(localStorage) } };
  },
};
process.stdout.write(JSON.stringify(scenarios[scenario]()));
`

// runPageScript runs scenario of graphiqlHarness on the page as served and decodes what it
// observed into observed.
func runPageScript(t *testing.T, scenario string, observed any) {
	t.Helper()
	node := testtool.Need(t, "node", "")
	rec := httptest.NewRecorder()
	NewPlayground("/graphql").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	script := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindStringSubmatch(rec.Body.String())
	if script == nil {
		t.Fatalf("page has no inline script:\n%s", rec.Body.String())
	}
	dir := t.TempDir()
	page, harness := filepath.Join(dir, "page.js"), filepath.Join(dir, "harness.js")
	if err := os.WriteFile(page, []byte(script[1]), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(harness, []byte(graphiqlHarness), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, harness, page, scenario).Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("node %s: %v\n%s", scenario, err, exit.Stderr)
		}
		t.Fatalf("node %s: %v", scenario, err)
	}
	if err := json.Unmarshal(out, observed); err != nil {
		t.Fatalf("scenario %s printed %q: %v", scenario, out, err)
	}
}

// savedHistory is what GraphiQL's history and favorites read: the headers of each entry (nil
// for an entry without), or no slice at all when there is no history.
type savedHistory struct {
	Queries   []*string `json:"queries"`
	Favorites []*string `json:"favorites"`
}

func (h savedHistory) String() string {
	b, _ := json.Marshal(h)
	return string(b)
}

// allHaveHeaders reports whether every entry of h has headers; no history at all has none
// missing.
func (h savedHistory) allHaveHeaders() bool {
	return !slices.Contains(h.Queries, nil) && !slices.Contains(h.Favorites, nil)
}

// carries reports whether h has exactly one history entry and one favorite, both with headers.
func (h savedHistory) carries(headers string) bool {
	return len(h.Queries) == 1 && len(h.Favorites) == 1 &&
		h.Queries[0] != nil && *h.Queries[0] == headers && h.Favorites[0] != nil && *h.Favorites[0] == headers
}

const harnessHeaders = `{"Authorization":"Basic YWRtaW46c2VjcmV0"}`

// Picking a history entry puts its headers in the Headers tab: an entry without them signs the
// person out. Without Persist headers, the history keeps them in memory for as long as the
// page, and the credentials stay out of local storage.
func TestPlaygroundScript_historyKeepsItsHeadersInThePageOnlyUnlessPersisted(t *testing.T) {
	t.Parallel()
	var got struct {
		ShouldPersistHeaders bool         `json:"shouldPersistHeaders"`
		WithCredentials      []string     `json:"withCredentials"`
		InPage               savedHistory `json:"inPage"`
		AfterReload          savedHistory `json:"afterReload"`
	}
	runPageScript(t, "notPersisting", &got)
	if got.ShouldPersistHeaders {
		t.Error("GraphiQL is told to persist headers nobody chose to persist")
	}
	if len(got.WithCredentials) != 0 {
		t.Errorf("local storage holds the credentials under %q", got.WithCredentials)
	}
	if !got.InPage.carries(harnessHeaders) {
		t.Errorf("in the page, history gives back %v, want the entry and the favorite with their headers", got.InPage)
	}
	if !got.AfterReload.allHaveHeaders() {
		t.Errorf("after a reload, history gives back entries without headers: %v", got.AfterReload)
	}
}

// herald's previous page kept history without headers: after the upgrade, none of it comes back.
func TestPlaygroundScript_historyWithoutHeadersIsNotLoaded(t *testing.T) {
	t.Parallel()
	var got struct {
		AfterReload savedHistory `json:"afterReload"`
	}
	runPageScript(t, "leftWithoutHeaders", &got)
	if !got.AfterReload.allHaveHeaders() {
		t.Errorf("history gives back entries without headers: %v", got.AfterReload)
	}
}

// With Persist headers on, history and favorites are kept in local storage, headers and all:
// that is what the person chose. Turning it on writes the page's history there.
func TestPlaygroundScript_persistedHistoryKeepsItsHeaders(t *testing.T) {
	t.Parallel()
	for _, scenario := range []string{"persisting", "turningOn"} {
		t.Run(scenario, func(t *testing.T) {
			t.Parallel()
			var got struct {
				WithCredentials []string     `json:"withCredentials"`
				AfterReload     savedHistory `json:"afterReload"`
			}
			runPageScript(t, scenario, &got)
			if want := []string{"graphiql:favorites", "graphiql:queries"}; !slices.Equal(got.WithCredentials, want) {
				t.Errorf("local storage holds the credentials under %q, want %q", got.WithCredentials, want)
			}
			if !got.AfterReload.carries(harnessHeaders) {
				t.Errorf("after a reload, history gives back %v, want the entry and the favorite with their headers", got.AfterReload)
			}
		})
	}
}

// Turning Persist headers off takes the history out of local storage; the page keeps it, with
// its headers, until it is reloaded.
func TestPlaygroundScript_turningPersistOffTakesHeadersOutOfLocalStorage(t *testing.T) {
	t.Parallel()
	var got struct {
		WithCredentials []string     `json:"withCredentials"`
		InPage          savedHistory `json:"inPage"`
		AfterReload     savedHistory `json:"afterReload"`
	}
	runPageScript(t, "turningOff", &got)
	if len(got.WithCredentials) != 0 {
		t.Errorf("local storage still holds the credentials under %q", got.WithCredentials)
	}
	if !got.InPage.carries(harnessHeaders) {
		t.Errorf("in the page, history gives back %v, want the entry and the favorite with their headers", got.InPage)
	}
	if !got.AfterReload.allHaveHeaders() {
		t.Errorf("after a reload, history gives back entries without headers: %v", got.AfterReload)
	}
}

// GraphiQL goes blank on stored history it cannot read ({"queries":5} left by hand or by
// another version): the page drops such a value instead of giving it to GraphiQL, and gives
// GraphiQL only a string as the headers it restores.
func TestPlaygroundScript_malformedStoredValuesAreDropped(t *testing.T) {
	t.Parallel()
	var got struct {
		Dropped []struct {
			Persist bool    `json:"persist"`
			Value   string  `json:"value"`
			Given   *string `json:"given"`
			Kept    *string `json:"kept"`
		} `json:"dropped"`
		WellFormedGiven bool  `json:"wellFormedGiven"`
		DefaultHeaders  []any `json:"defaultHeaders"`
	}
	runPageScript(t, "malformed", &got)
	if len(got.Dropped) == 0 {
		t.Fatal("the scenario tried no malformed value")
	}
	for _, d := range got.Dropped {
		if d.Given != nil || d.Kept != nil {
			t.Errorf("persist headers %v, graphiql:queries = %s: GraphiQL is given %v, local storage keeps %v; want neither", d.Persist, d.Value, valueOrNil(d.Given), valueOrNil(d.Kept))
		}
	}
	if !got.WellFormedGiven {
		t.Error("a well-formed history is not given back as stored")
	}
	if want := []any{harnessHeaders, nil, nil}; !reflect.DeepEqual(got.DefaultHeaders, want) {
		t.Errorf("headers restored from tabs whose headers are a string, 5 and an object: %v, want %v", got.DefaultHeaders, want)
	}
}

func valueOrNil(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// herald's earlier pages turned Persist headers on at every load: the upgrade forgets that
// setting and the headers kept with it, once; what the person chooses afterwards stays.
func TestPlaygroundScript_upgradeForgetsPersistedHeadersOnce(t *testing.T) {
	t.Parallel()
	type state struct {
		PersistSetting  *string  `json:"persistSetting"`
		WithCredentials []string `json:"withCredentials"`
	}
	var got struct {
		First       state `json:"first"`
		AfterReload state `json:"afterReload"`
	}
	runPageScript(t, "upgrade", &got)
	if got.First.PersistSetting != nil || len(got.First.WithCredentials) != 0 {
		t.Errorf("after the upgrade, Persist headers is %v and local storage holds the credentials under %q; want neither", valueOrNil(got.First.PersistSetting), got.First.WithCredentials)
	}
	if valueOrNil(got.AfterReload.PersistSetting) != "true" || !slices.Contains(got.AfterReload.WithCredentials, "graphiql:headers") {
		t.Errorf("Persist headers turned on after the upgrade: at the next load the setting is %v and credentials are under %q; want true and graphiql:headers",
			valueOrNil(got.AfterReload.PersistSetting), got.AfterReload.WithCredentials)
	}
}
