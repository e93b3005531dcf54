//! An SNS notification as an SQS subscriber of the gate's topic receives it (raw delivery off):
//! the envelope SNS wraps around the gate's `Message`. The CLI and the workspace tests read it
//! through this type, so the body is always the typed contract, never keys.

use std::collections::BTreeMap;

use serde::Deserialize;
use stagegate::message::Message;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Envelope {
    #[serde(default)]
    pub subject: String,
    /// The gate's JSON body, as a string.
    pub message: String,
    #[serde(default)]
    pub message_attributes: BTreeMap<String, Attribute>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attribute {
    #[serde(rename = "Type")]
    pub kind: String,
    pub value: String,
}

impl Envelope {
    /// An SQS message body: the envelope, or why it is not one.
    pub fn parse(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("not an SNS envelope: {e}"))
    }

    /// The gate's message, or why the body is not one (a contract break shows here, by field).
    pub fn body(&self) -> Result<Message, String> {
        serde_json::from_str(&self.message).map_err(|e| format!("not a stagegate message: {e}"))
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.message_attributes.get(name).map(|a| a.value.as_str())
    }
}
