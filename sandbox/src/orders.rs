//! Discount-card (先享卡) orders: `PATCH` and `GET v3/discount-card/orders/{out_order_no}`.
//!
//! State lives in one mutex-guarded map; every answer is computed under the lock,
//! so a `GET` never sees half of a `PATCH`.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use http::StatusCode;
use serde_json::{json, Map, Value};

use super::routes::{error, Reply, SandboxRequest};

/// The order the seed document queries; present from the start.
pub const SEED_ORDER: &str = "233bcbf407e87789b8e471f251774f95";

/// The path of both endpoints.
pub(crate) const TEMPLATE: &str = "v3/discount-card/orders/{out_order_no}";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Int,
}

/// `(field, type, required)` of an objective, as the seed's request table says.
const OBJECTIVE_FIELDS: &[(&str, Kind, bool)] = &[
    ("objective_serial_no", Kind::Str, true),
    ("objective_id", Kind::Int, true),
    ("performance_description", Kind::Str, true),
    ("performance_type", Kind::Str, true),
    ("count", Kind::Int, true),
    ("performance_time", Kind::Str, true),
    ("remark", Kind::Str, false),
];

/// `(field, type, required)` of a reward, as the seed's request table says.
const REWARD_FIELDS: &[(&str, Kind, bool)] = &[
    ("reward_serial_no", Kind::Str, true),
    ("reward_id", Kind::Int, true),
    ("description", Kind::Str, true),
    ("reward_type", Kind::Str, true),
    ("count", Kind::Int, true),
    ("amount", Kind::Int, true),
    ("reward_time", Kind::Str, true),
    ("remark", Kind::Str, false),
];

struct Order {
    order_id: String,
    objectives: Vec<Map<String, Value>>,
    rewards: Vec<Map<String, Value>>,
}

/// The discount-card order book.
pub(crate) struct Orders {
    orders: Mutex<HashMap<String, Order>>,
}

impl Orders {
    /// An order book holding the seed's order, with nothing recorded yet.
    pub(crate) fn with_seed() -> Orders {
        let mut orders = HashMap::new();
        orders.insert(
            SEED_ORDER.to_owned(),
            Order {
                order_id: "1000000000201905200000000000000001".to_owned(),
                objectives: Vec::new(),
                rewards: Vec::new(),
            },
        );
        Orders {
            orders: Mutex::new(orders),
        }
    }

    /// Back to the seed's order alone, nothing recorded.
    pub(crate) fn reset(&self) {
        let seed = Orders::with_seed().orders.into_inner();
        *self.orders.lock().unwrap_or_else(PoisonError::into_inner) =
            seed.unwrap_or_else(PoisonError::into_inner);
    }

    /// `PATCH`: validates the whole body first, then records each objective and
    /// reward whose serial number is new (a retried PATCH records nothing twice).
    pub(crate) fn patch(&self, req: &SandboxRequest) -> Reply {
        let out_order_no = req.param("out_order_no").unwrap_or_default();
        let (objectives, rewards) = match validate(req) {
            Ok(items) => items,
            Err(message) => return error(StatusCode::BAD_REQUEST, "PARAM_ERROR", message),
        };
        let mut orders = self.orders.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(order) = orders.get_mut(out_order_no) else {
            return not_found(out_order_no);
        };
        merge(&mut order.objectives, objectives, "objective_serial_no");
        merge(&mut order.rewards, rewards, "reward_serial_no");
        (
            StatusCode::OK,
            json!({ "out_order_no": out_order_no, "order_id": order.order_id }),
        )
    }

    /// `GET`: every field of the seed's response table, amounts summed from the
    /// rewards recorded so far.
    pub(crate) fn get(&self, req: &SandboxRequest) -> Reply {
        let out_order_no = req.param("out_order_no").unwrap_or_default();
        let orders = self.orders.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(order) = orders.get(out_order_no) else {
            return not_found(out_order_no);
        };
        let total: i64 = order
            .rewards
            .iter()
            .filter_map(|r| r.get("amount").and_then(Value::as_i64))
            .sum();
        let deduction = 0;
        let objectives: Vec<Value> = order
            .objectives
            .iter()
            .map(|o| {
                json!({
                    "objective_serial_no": o["objective_serial_no"],
                    "objective_id": o["objective_id"],
                    "name": "消费次数",
                    "unit": "次",
                    "performance_description": o["performance_description"],
                    "performance_type": o["performance_type"],
                    "count": o["count"],
                    "performance_time": o["performance_time"],
                    "remark": o.get("remark").cloned().unwrap_or_else(|| json!("")),
                })
            })
            .collect();
        let rewards: Vec<Value> = order
            .rewards
            .iter()
            .map(|r| {
                json!({
                    "reward_serial_no": r["reward_serial_no"],
                    "reward_id": r["reward_id"],
                    "name": "消费立减",
                    "unit": "分",
                    "description": r["description"],
                    "reward_type": r["reward_type"],
                    "count": r["count"],
                    "amount": r["amount"],
                    "reward_time": r["reward_time"],
                    "remark": r.get("remark").cloned().unwrap_or_else(|| json!("")),
                })
            })
            .collect();
        let body = json!({
            "out_order_no": out_order_no,
            "discount_card_id": "DC2019052000000001",
            "out_trade_no": format!("T{out_order_no}"),
            "appid": "wxd678efh567hg6787",
            "service_id": "500001",
            "order_id": order.order_id,
            "transaction_id": "4200000000201905201234567890",
            "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            "card_begin_time": "2019-05-20T13:29:35+08:00",
            "card_end_time": "2019-06-20T13:29:35+08:00",
            "card_name": "微信先享卡",
            "objective_description": "一个月内消费 3 次",
            "reward_description": "每次消费立减 1 元",
            "estimated_reward_amount": 300,
            "online_instructions": "在小程序下单时自动抵扣",
            "offline_instructions": "到店出示先享卡即可使用",
            "state": "ONGOING",
            "total_amount": total,
            "deduction_amount": deduction,
            "settlement_amount": total - deduction,
            "create_time": "2019-05-20T13:29:35+08:00",
            "pay_time": "2019-05-20T13:29:40+08:00",
            "objectives": objectives,
            "rewards": rewards,
        });
        (StatusCode::OK, body)
    }
}

fn not_found(out_order_no: &str) -> Reply {
    error(
        StatusCode::NOT_FOUND,
        "ORDER_NOT_EXIST",
        format!("order `{out_order_no}` does not exist"),
    )
}

/// Appends the items whose serial number is not yet recorded.
fn merge(recorded: &mut Vec<Map<String, Value>>, items: Vec<Map<String, Value>>, serial: &str) {
    for item in items {
        if !recorded.iter().any(|r| r.get(serial) == item.get(serial)) {
            recorded.push(item);
        }
    }
}

type Items = Vec<Map<String, Value>>;

/// Checks the PATCH body against the seed's request table; the error names the
/// field at fault.
fn validate(req: &SandboxRequest) -> Result<(Items, Items), String> {
    if req.body.is_empty() {
        return Err(
            "the body is empty; expected a JSON object with `objectives` and/or `rewards`".into(),
        );
    }
    let Some(body) = req.json.as_object() else {
        return Err(match serde_json::from_slice::<Value>(&req.body) {
            Err(e) => format!("the body is not valid JSON ({e})"),
            Ok(_) => "the body must be a JSON object with `objectives` and/or `rewards`".into(),
        });
    };
    if let Some(key) = body.keys().find(|k| *k != "objectives" && *k != "rewards") {
        return Err(format!(
            "`{key}` is not a field of this request (expected `objectives`, `rewards`)"
        ));
    }
    let objectives = items(body, "objectives", OBJECTIVE_FIELDS)?;
    let rewards = items(body, "rewards", REWARD_FIELDS)?;
    Ok((objectives, rewards))
}

fn items(
    body: &Map<String, Value>,
    list: &str,
    fields: &[(&str, Kind, bool)],
) -> Result<Items, String> {
    let array = match body.get(list) {
        None => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(format!(
                "`{list}` must be an array, not {}",
                type_name(other)
            ))
        }
    };
    let mut out = Vec::with_capacity(array.len());
    for (i, item) in array.iter().enumerate() {
        let Some(item) = item.as_object() else {
            return Err(format!(
                "`{list}[{i}]` must be an object, not {}",
                type_name(item)
            ));
        };
        for (name, kind, required) in fields {
            let at = format!("{list}[{i}].{name}");
            match (item.get(*name), kind) {
                (None, _) if *required => return Err(format!("`{at}` is required")),
                (None, _) => {}
                (Some(Value::String(s)), Kind::Str) if *required && s.is_empty() => {
                    return Err(format!("`{at}` must not be empty"))
                }
                (Some(Value::String(_)), Kind::Str) => {}
                (Some(v), Kind::Int) if v.is_i64() || v.is_u64() => {}
                (Some(v), Kind::Str) => {
                    return Err(format!("`{at}` must be a string, not {}", type_name(v)))
                }
                (Some(v), Kind::Int) => {
                    return Err(format!("`{at}` must be an integer, not {}", type_name(v)))
                }
            }
        }
        if let Some(key) = item.keys().find(|k| !fields.iter().any(|(f, _, _)| f == k)) {
            return Err(format!("`{list}[{i}].{key}` is not a field of {list}"));
        }
        out.push(item.clone());
    }
    Ok(out)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &str) -> SandboxRequest {
        SandboxRequest {
            method: http::Method::PATCH,
            path: format!("v3/discount-card/orders/{SEED_ORDER}"),
            params: HashMap::from([("out_order_no".to_owned(), SEED_ORDER.to_owned())]),
            query: HashMap::new(),
            raw_query: None,
            headers: http::HeaderMap::new(),
            json: serde_json::from_str(body).unwrap_or(Value::Null),
            body: bytes::Bytes::copy_from_slice(body.as_bytes()),
        }
    }

    fn message(reply: Reply) -> String {
        assert_eq!(reply.0, StatusCode::BAD_REQUEST);
        assert_eq!(reply.1["code"], "PARAM_ERROR");
        reply.1["message"].as_str().unwrap().to_owned()
    }

    #[test]
    fn patch_errors_name_the_field() {
        let orders = Orders::with_seed();
        let reward = r#"{"reward_serial_no":"1","reward_id":1,"description":"d","reward_type":"t","count":1,"amount":"100","reward_time":"t"}"#;
        let m = message(orders.patch(&request(&format!(r#"{{"rewards":[{reward}]}}"#))));
        assert!(
            m.contains("rewards[0].amount") && m.contains("integer"),
            "{m}"
        );
        let m = message(orders.patch(&request(r#"{"objectives":[{"objective_id":1}]}"#)));
        assert!(m.contains("objectives[0].objective_serial_no"), "{m}");
        assert!(message(orders.patch(&request(r#"{"objectives":{}}"#))).contains("array"));
        assert!(message(orders.patch(&request(r#"{"jsno":[]}"#))).contains("`jsno`"));
        assert!(message(orders.patch(&request("{"))).contains("not valid JSON"));
        assert!(message(orders.patch(&request(""))).contains("empty"));
    }

    #[test]
    fn patch_is_idempotent_and_get_sums_amounts() {
        let orders = Orders::with_seed();
        let body = r#"{"rewards":[
            {"reward_serial_no":"1","reward_id":1,"description":"d","reward_type":"t","count":1,"amount":100,"reward_time":"t"},
            {"reward_serial_no":"2","reward_id":1,"description":"d","reward_type":"t","count":1,"amount":50,"reward_time":"t"}]}"#;
        for _ in 0..2 {
            let (status, answer) = orders.patch(&request(body));
            assert_eq!(status, StatusCode::OK);
            assert_eq!(answer["out_order_no"], SEED_ORDER);
        }
        let (_, order) = orders.get(&request(""));
        assert_eq!(order["rewards"].as_array().unwrap().len(), 2);
        assert_eq!(order["total_amount"], 150);
        assert_eq!(order["settlement_amount"], 150);
    }
}
