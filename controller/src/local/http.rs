//! HTTP templates on the local backend: the request is made by Trellis itself (as Argo's agent
//! does), and `successCondition` decides the phase (default: a 2xx status).

use std::time::Duration;

use engine::model::{NodePhase, Outputs, Template};
use engine::plan::StepObservation;

/// Performs the request of an HTTP template.
pub async fn run(t: &Template) -> StepObservation {
    let started = engine::plan::format_time(chrono::Utc::now());
    let done = |phase, message: Option<String>, outputs| StepObservation {
        phase,
        message,
        started_at: Some(started.clone()),
        finished_at: Some(engine::plan::format_time(chrono::Utc::now())),
        outputs,
        ..Default::default()
    };
    let Some(h) = &t.http else {
        return done(NodePhase::Error, Some("not an HTTP template".into()), None);
    };
    match request(h).await {
        Ok((status, body, headers)) => {
            let ok = match &h.success_condition {
                Some(cond) => success(cond, status, &body, &headers),
                None => Ok((200..300).contains(&status)),
            };
            let outputs = Some(Outputs {
                result: Some(body),
                ..Default::default()
            });
            match ok {
                Ok(true) => done(NodePhase::Succeeded, None, outputs),
                Ok(false) => done(
                    NodePhase::Failed,
                    Some(format!("HTTP {status}: successCondition not met")),
                    outputs,
                ),
                Err(e) => done(
                    NodePhase::Error,
                    Some(format!("successCondition: {e}")),
                    outputs,
                ),
            }
        }
        Err(e) => done(NodePhase::Failed, Some(e), None),
    }
}

async fn request(h: &engine::model::Http) -> Result<(u16, String, Vec<(String, String)>), String> {
    let url = h.url.clone().unwrap_or_default();
    let method = reqwest::Method::from_bytes(h.method.as_deref().unwrap_or("GET").as_bytes())
        .map_err(|_| format!("unknown HTTP method {:?}", h.method))?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(
            h.timeout_seconds.unwrap_or(30).clamp(1, 3600) as u64,
        ))
        .build()
        .map_err(|e| e.to_string())?;
    let mut req = client.request(method, &url);
    for header in h.headers.iter().flatten() {
        if header.value_from.is_some() {
            return Err(format!(
                "header {:?}: values from secrets need the Kubernetes backend",
                header.name
            ));
        }
        req = req.header(
            header.name.clone().unwrap_or_default(),
            header.value.clone().unwrap_or_default(),
        );
    }
    if let Some(b) = &h.body {
        req = req.body(b.clone());
    }
    let resp = req.send().await.map_err(|e| format!("{url}: {e}"))?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let body = resp.text().await.map_err(|e| e.to_string())?;
    Ok((status, body, headers))
}

/// Evaluates `successCondition` with Argo's `response.statusCode`, `response.body` and
/// `response.headers`.
fn success(
    cond: &str,
    status: u16,
    body: &str,
    headers: &[(String, String)],
) -> Result<bool, String> {
    let mut h = serde_json::Map::new();
    for (k, v) in headers {
        h.insert(k.clone(), serde_json::json!([v]));
    }
    let env = serde_json::json!({"response": {"statusCode": status, "body": body, "headers": h}});
    match engine::expr::eval(cond, &env).map_err(|e| e.to_string())? {
        serde_json::Value::Bool(b) => Ok(b),
        other => Err(format!("expected a boolean, got {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_conditions_see_the_response() {
        assert_eq!(
            success("response.statusCode == 201", 201, "", &[]),
            Ok(true)
        );
        assert_eq!(
            success("response.body contains 'ok'", 200, "all ok", &[]),
            Ok(true)
        );
        assert_eq!(
            success("response.statusCode >= 500", 200, "", &[]),
            Ok(false)
        );
        assert!(success("1 + 1", 200, "", &[]).is_err());
    }
}
