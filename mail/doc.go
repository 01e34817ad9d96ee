// Package mail builds the emails Postern sends (invitations, credential
// shares, the settings page's test email), sends them over SMTP, and drains
// the durable outbox with retries; Mailer wires the worker to the SMTP
// settings in force.
//
// It imports nothing else of the project: the store implements Settings,
// the web package adapts the store's outbox rows to Outbox and builds
// InviteData and ShareData from its own values, and tests elsewhere use
// Fake in place of a real Sender.
package mail
