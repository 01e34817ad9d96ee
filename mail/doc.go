// Package mail builds the emails Postern sends (invitations, credential
// shares, the settings page's test email), sends them over SMTP, and drains
// the durable outbox with retries.
//
// It imports nothing else of the project: the store implements Outbox, the
// web package builds InviteData and ShareData from its own values, and tests
// elsewhere use Fake in place of a real Sender.
package mail
