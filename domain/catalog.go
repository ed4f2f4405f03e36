package domain

import (
	"slices"
	"strings"
)

// Resource types an event may be about.
const (
	ResourceImageDigest    = "image_digest"
	ResourceImageTag       = "image_tag"
	ResourceImageReference = "image_reference"
	ResourceRepository     = "repository"
	ResourceFeeds          = "feeds"
	ResourceFeed           = "feed"
	ResourceFeedGroup      = "feed_group"
	ResourcePolicyBundle   = "policy_bundle"
	ResourceService        = "service"
)

var resourceTypes = []string{
	ResourceImageDigest, ResourceImageTag, ResourceImageReference, ResourceRepository,
	ResourceFeeds, ResourceFeed, ResourceFeedGroup, ResourcePolicyBundle, ResourceService,
}

// ResourceTypes lists the known resource types.
func ResourceTypes() []string { return slices.Clone(resourceTypes) }

// IsResourceType tells whether s is a known resource type.
func IsResourceType(s string) bool { return slices.Contains(resourceTypes, s) }

// EventType describes one known kind of event.
type EventType struct {
	Name         string // category.subcategory.event
	Description  string
	Level        Level
	ResourceType string
}

// Category is the first segment of the name: "user" or "system".
func (t EventType) Category() string {
	c, _, _ := strings.Cut(t.Name, ".")
	return c
}

// catalog lists the event types platform services are known to emit. Producers may send other
// well-formed types; those are accepted and listed once seen.
var catalog = []EventType{
	{"user.checks.tag.policy_evaluation.update", "The policy evaluation result of a watched tag changed", LevelInfo, ResourceImageTag},
	{"user.checks.tag.vulnerabilities.update", "The vulnerability list of a watched tag changed", LevelInfo, ResourceImageTag},
	{"user.image.analysis.completed", "An image was analyzed", LevelInfo, ResourceImageDigest},
	{"user.image.analysis.failed", "An image could not be analyzed", LevelError, ResourceImageDigest},
	{"user.policy.active.updated", "The active policy bundle of an account was replaced", LevelInfo, ResourcePolicyBundle},
	{"user.policy.active.content_change", "The content of the active policy bundle changed", LevelInfo, ResourcePolicyBundle},
	{"system.image_analysis.registry_lookup_failed", "The registry could not be queried for an image about to be analyzed", LevelError, ResourceImageReference},
	{"system.image_analysis.restarted", "The analysis of an image was restarted after a service failure", LevelInfo, ResourceImageDigest},
	{"system.analysis_archive.image_archived", "An image's analysis was moved to the analysis archive", LevelInfo, ResourceImageDigest},
	{"system.analysis_archive.image_archive_failed", "An image's analysis could not be archived", LevelError, ResourceImageDigest},
	{"system.analysis_archive.image_restored", "An image's analysis was restored from the archive", LevelInfo, ResourceImageDigest},
	{"system.analysis_archive.image_restore_failed", "An image's analysis could not be restored from the archive", LevelError, ResourceImageDigest},
	{"system.analysis_archive.image_archive_deleted", "An archived analysis was deleted", LevelInfo, ResourceImageDigest},
	{"system.analysis_archive.image_archive_delete_failed", "An archived analysis could not be deleted", LevelError, ResourceImageDigest},
	{"system.repository.list_tags_fail", "The tags of a watched repository could not be listed", LevelError, ResourceRepository},
	{"system.feeds.sync.started", "A vulnerability feed sync started", LevelInfo, ResourceFeeds},
	{"system.feeds.sync.completed", "A vulnerability feed sync completed", LevelInfo, ResourceFeeds},
	{"system.feeds.sync.failed", "A vulnerability feed sync failed", LevelError, ResourceFeeds},
	{"system.feeds.sync.feed_started", "The sync of one feed started", LevelInfo, ResourceFeed},
	{"system.feeds.sync.feed_completed", "The sync of one feed completed", LevelInfo, ResourceFeed},
	{"system.feeds.sync.feed_failed", "The sync of one feed failed", LevelError, ResourceFeed},
	{"system.feeds.sync.group_started", "The sync of one feed group started", LevelInfo, ResourceFeedGroup},
	{"system.feeds.sync.group_completed", "The sync of one feed group completed", LevelInfo, ResourceFeedGroup},
	{"system.feeds.sync.group_failed", "The sync of one feed group failed", LevelError, ResourceFeedGroup},
	{"system.service.state_transition", "A service changed state (started, stopping, unavailable)", LevelInfo, ResourceService},
	{"system.service.down", "A service stopped answering its health checks", LevelError, ResourceService},
	{"system.service.orphaned", "A service stopped reporting and was marked orphaned", LevelError, ResourceService},
	{"system.service.removed", "An orphaned service was removed from the registry", LevelInfo, ResourceService},
}

// Catalog lists the known event types, sorted by name.
func Catalog() []EventType {
	out := slices.Clone(catalog)
	slices.SortFunc(out, func(a, b EventType) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// LookupEventType finds a known event type by name.
func LookupEventType(name string) (EventType, bool) {
	for _, t := range catalog {
		if t.Name == name {
			return t, true
		}
	}
	return EventType{}, false
}
