//! HTTP handlers: the identity platform endpoints and Graph's `/v1.0` users and groups.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::auth::{decode_basic, openid_configuration};
use crate::directory::{
    DeltaCursor, DeltaEntry, DirObject, Kind, Selection, check_select, reference_id,
};
use crate::error::GraphError;
use crate::odata::{FilterRules, QueryOptions};
use crate::server::{AppState, Scheme, empty};

type AppResult = Result<Response, GraphError>;
type Shared = State<Arc<AppState>>;
type Pairs = Query<Vec<(String, String)>>;

const ODATA_CONTENT_TYPE: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// A JSON response with Graph's OData content type.
pub fn odata_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(ODATA_CONTENT_TYPE),
    );
    response
        .headers_mut()
        .insert("odata-version", HeaderValue::from_static("4.0"));
    response
}

const USER_FILTERS: FilterRules = FilterRules {
    resource: "User",
    comparable: &[
        "id",
        "accountEnabled",
        "displayName",
        "givenName",
        "surname",
        "userPrincipalName",
        "mail",
        "mailNickname",
        "department",
        "jobTitle",
        "companyName",
        "employeeId",
        "employeeType",
        "userType",
        "usageLocation",
        "city",
        "country",
        "state",
        "onPremisesImmutableId",
        "onPremisesSyncEnabled",
        "onPremisesSamAccountName",
        "creationType",
        "externalUserState",
    ],
    starts_with: &[
        "displayName",
        "givenName",
        "surname",
        "userPrincipalName",
        "mail",
        "mailNickname",
        "jobTitle",
        "companyName",
        "employeeId",
        "city",
        "country",
        "state",
        "onPremisesSamAccountName",
    ],
    ends_with: &["mail", "userPrincipalName"],
};

const GROUP_FILTERS: FilterRules = FilterRules {
    resource: "Group",
    comparable: &[
        "id",
        "displayName",
        "mail",
        "mailNickname",
        "mailEnabled",
        "securityEnabled",
        "onPremisesSyncEnabled",
        "classification",
        "visibility",
    ],
    starts_with: &["displayName", "mail", "mailNickname"],
    ends_with: &["mail"],
};

/// `{scheme}://{host}` of the request, for absolute links.
#[derive(Debug)]
pub struct Base(String);

impl<S: Send + Sync> FromRequestParts<S> for Base {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let scheme = parts.extensions.get::<Scheme>().map_or("http", |s| s.0);
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        Ok(Base(format!("{scheme}://{host}")))
    }
}

impl Base {
    fn context(&self, fragment: &str) -> String {
        format!("{}/v1.0/$metadata#{fragment}", self.0)
    }
}

pub fn identity_routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(openid),
        )
}

/// Inspection endpoints outside Graph's namespace, without authentication.
pub fn inspection_routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/stats", get(stats))
        .route("/_emulator/state", get(dump_state).post(load_state))
        .route("/_emulator/users", post(seed_user))
}

async fn reset(State(state): Shared) -> Response {
    state.reset();
    empty(StatusCode::NO_CONTENT)
}

async fn stats(State(state): Shared) -> Response {
    let stats = state.stats().clone();
    axum::Json(stats).into_response()
}

/// Adds a user the way directory synchronization would (e.g. `onPremisesSyncEnabled`).
async fn seed_user(State(state): Shared, body: Bytes) -> AppResult {
    let body = parse_object(&body)?;
    let id = state.ids.guid();
    let now = state.clock.now();
    let mut dir = state.directory();
    let user = dir.seed_user(body, id, now)?;
    Ok(odata_json(
        StatusCode::CREATED,
        &Value::Object(user.props.to_map()),
    ))
}

/// Replaces the directory with a state in `GET /_emulator/state`'s form.
async fn load_state(State(state): Shared, body: Bytes) -> AppResult {
    let body: Value = serde_json::from_slice(&body).map_err(|_| GraphError::invalid_json())?;
    state.load_state(&body)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn dump_state(State(state): Shared) -> Response {
    axum::Json(state.directory().dump()).into_response()
}

pub fn graph_routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1.0/users", get(list_users).post(create_user))
        .route("/v1.0/users/delta", get(users_delta))
        .route("/v1.0/users/$count", get(count_users))
        .route("/v1.0/groups/$count", get(count_groups))
        .route("/v1.0/users/microsoft.graph.delta()", get(users_delta))
        // Microsoft's SDKs call the function with its parentheses.
        .route("/v1.0/users/delta()", get(users_delta))
        .route(
            "/v1.0/users/{id}",
            get(get_user).patch(update_user).delete(delete_user),
        )
        .route("/v1.0/users/{id}/memberOf", get(user_member_of))
        .route(
            "/v1.0/users/{id}/transitiveMemberOf",
            get(user_transitive_member_of),
        )
        .route("/v1.0/groups/{id}/memberOf", get(group_member_of))
        .route(
            "/v1.0/groups/{id}/transitiveMemberOf",
            get(group_transitive_member_of),
        )
        .route(
            "/v1.0/groups/{id}/transitiveMembers",
            get(group_transitive_members),
        )
        .route("/v1.0/users/{id}/manager", get(get_manager))
        .route(
            "/v1.0/users/{id}/manager/$ref",
            axum::routing::put(set_manager).delete(remove_manager),
        )
        .route("/v1.0/users/{id}/directReports", get(direct_reports))
        .route("/v1.0/users/{id}/assignLicense", post(assign_license))
        .route("/v1.0/users/{id}/licenseDetails", get(user_license_details))
        .route("/v1.0/subscribedSkus", get(subscribed_skus))
        .route("/v1.0/organization", get(organization))
        .route("/v1.0/domains", get(domains))
        .route("/v1.0/groups", get(list_groups).post(create_group))
        .route("/v1.0/groups/delta", get(groups_delta))
        .route("/v1.0/groups/microsoft.graph.delta()", get(groups_delta))
        .route("/v1.0/groups/delta()", get(groups_delta))
        .route(
            "/v1.0/groups/{id}",
            get(get_group).patch(update_group).delete(delete_group),
        )
        .route("/v1.0/groups/{id}/members", get(group_members))
        .route("/v1.0/groups/{id}/members/$ref", post(add_member))
        .route("/v1.0/groups/{id}/members/{cast}", get(group_members_cast))
        .route("/v1.0/users/{id}/memberOf/{cast}", get(user_member_of_cast))
        .route(
            "/v1.0/users/{id}/transitiveMemberOf/{cast}",
            get(user_transitive_member_of_cast),
        )
        .route(
            "/v1.0/groups/{id}/transitiveMembers/{cast}",
            get(group_transitive_members_cast),
        )
        .route(
            "/v1.0/groups/{id}/members/{member}/$ref",
            delete(remove_member),
        )
        .route("/v1.0/groups/{id}/owners", get(group_owners))
        .route(
            "/v1.0/groups/{id}/assignLicense",
            post(assign_group_license),
        )
        .route("/v1.0/groups/{id}/owners/$ref", post(add_owner))
        .route(
            "/v1.0/groups/{id}/owners/{owner}/$ref",
            delete(remove_owner),
        )
        .route("/v1.0/invitations", post(invite))
        .route(
            "/v1.0/roleManagement/directory/roleDefinitions",
            get(list_role_definitions),
        )
        .route(
            "/v1.0/roleManagement/directory/roleDefinitions/{id}",
            get(get_role_definition),
        )
        .route(
            "/v1.0/roleManagement/directory/roleAssignments",
            get(list_role_assignments).post(create_role_assignment),
        )
        .route(
            "/v1.0/roleManagement/directory/roleAssignments/{id}",
            get(get_role_assignment).delete(delete_role_assignment),
        )
        .route("/v1.0/directoryRoles", get(list_directory_roles))
        .route("/v1.0/directoryRoles/{id}", get(get_directory_role))
        .route(
            "/v1.0/directoryRoles/{id}/members",
            get(directory_role_members),
        )
        .route(
            "/v1.0/directoryRoles/{id}/members/$ref",
            post(add_directory_role_member),
        )
        .route(
            "/v1.0/directoryRoles/{id}/members/{member}/$ref",
            delete(remove_directory_role_member),
        )
        .route("/v1.0/applications", get(list_applications))
        .route("/v1.0/applications/{id}", get(get_application))
        .route(
            "/v1.0/applications/{id}/extensionProperties",
            get(list_extension_properties).post(create_extension_property),
        )
        .route(
            "/v1.0/applications/{id}/extensionProperties/{ext}",
            get(get_extension_property).delete(delete_extension_property),
        )
        .route("/v1.0/$batch", post(batch))
        .route(
            "/v1.0/directory/deletedItems/microsoft.graph.user",
            get(list_deleted_users),
        )
        // The SDKs cast with the namespace alias.
        .route(
            "/v1.0/directory/deletedItems/graph.user",
            get(list_deleted_users),
        )
        .route(
            "/v1.0/directory/deletedItems/{id}",
            get(get_deleted_item).delete(purge_deleted_item),
        )
        .route(
            "/v1.0/directory/deletedItems/{id}/restore",
            post(restore_deleted_item),
        )
}

/// Graph's answer to a method a path does not support.
pub async fn method_not_allowed() -> GraphError {
    GraphError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Request_BadRequest",
        "Specified HTTP method is not allowed for the request target.",
    )
}

/// Graph's answer to a path it does not know.
pub async fn unknown_segment(uri: Uri) -> GraphError {
    let path = uri.path().trim_start_matches("/v1.0");
    let segment = path
        .trim_matches('/')
        .split('/')
        .next_back()
        .unwrap_or_default();
    GraphError::odata_bad_request(format!("Resource not found for the segment '{segment}'."))
}

// ---- identity platform ---------------------------------------------------------------

async fn token(
    State(state): Shared,
    Path(tenant): Path<String>,
    Base(base): Base,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(decode_basic);
    let now = state.clock.now();
    let result = state.tokens().token_request(
        &state.identity,
        &base,
        &tenant,
        &form,
        basic,
        &state.ids,
        now,
    );
    let mut response = match result {
        Ok(issued) => (StatusCode::OK, issued.body().to_string()).into_response(),
        Err(error) => {
            let correlation = headers
                .get("client-request-id")
                .and_then(|v| v.to_str().ok())
                .map_or_else(|| state.ids.guid(), str::to_owned);
            let body = error.body(&state.ids.guid(), &correlation, now, &base);
            (error.status, body.to_string()).into_response()
        }
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    response
}

async fn openid(State(state): Shared, Path(tenant): Path<String>, Base(base): Base) -> Response {
    if !state.identity.names_tenant(&tenant) {
        let error = crate::auth::TokenError::tenant_not_found(&tenant);
        let mut body = error.body(
            &state.ids.guid(),
            &state.ids.guid(),
            state.clock.now(),
            &base,
        );
        body["error"] = json!("invalid_tenant");
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    axum::Json(openid_configuration(&state.identity, &base)).into_response()
}

// ---- helpers -------------------------------------------------------------------------

fn parse_object(body: &Bytes) -> Result<Map<String, Value>, GraphError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(GraphError::invalid_json()),
    }
}

fn is_eventual(headers: &HeaderMap) -> bool {
    headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("eventual"))
}

/// The page size a client asked for with `Prefer: odata.maxpagesize=N`.
fn max_page_size(headers: &HeaderMap) -> Option<usize> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().strip_prefix("odata.maxpagesize=")?.parse().ok())
        .map(|n: usize| n.clamp(1, crate::odata::MAX_PAGE_SIZE))
}

fn encode_token<T: Serialize>(value: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

fn decode_token<T: for<'de> Deserialize<'de>>(token: &str) -> Option<T> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token).ok()?).ok()
}

fn bad_skiptoken() -> GraphError {
    GraphError::bad_request("Invalid paging token specified.")
}

/// Rebuilds a link: the request's options except the paging ones, plus `extra`.
fn link(base: &Base, path: &str, pairs: &[(String, String)], extra: (&str, String)) -> String {
    let mut kept: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| {
            let k = k.trim_start_matches('$').to_ascii_lowercase();
            k != "skiptoken" && k != "deltatoken"
        })
        .cloned()
        .collect();
    kept.push((extra.0.to_owned(), extra.1));
    let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
    format!("{}/v1.0/{path}?{query}", base.0)
}

fn context_with_select(base: &Base, set: &str, select: Option<&[String]>, entity: bool) -> String {
    let mut fragment = match select {
        Some(props) => format!("{set}({})", props.join(",")),
        None => set.to_owned(),
    };
    if entity {
        fragment.push_str("/$entity");
    }
    base.context(&fragment)
}

fn with_type(object: &DirObject, select: Option<&[String]>) -> Value {
    let mut map = Map::new();
    map.insert("@odata.type".to_owned(), json!(object.kind.odata_type()));
    map.extend(object.render(select));
    Value::Object(map)
}

/// Graph returns at most this many objects in an expanded collection.
const EXPANDED_COLLECTION_LIMIT: usize = 20;

/// The navigation properties `$expand` takes, by resource.
fn expandable(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::User => &["manager", "directReports", "memberOf"],
        Kind::Group => &["members", "owners", "memberOf"],
    }
}

fn check_expand(kind: Kind, expand: &[crate::odata::Expand]) -> Result<(), GraphError> {
    for e in expand {
        if !expandable(kind).contains(&e.property.as_str()) {
            return Err(GraphError::odata_bad_request(format!(
                "Could not find a property named '{}' on type 'microsoft.graph.{}'.",
                e.property,
                kind.entity()
            )));
        }
    }
    Ok(())
}

/// Adds the `$expand`ed navigation properties to a rendered object. A missing manager is
/// left out; collections hold at most 20 objects.
fn add_expansions(
    dir: &crate::directory::Directory,
    object: &DirObject,
    expand: &[crate::odata::Expand],
    out: &mut Map<String, Value>,
) {
    for e in expand {
        let select = e.select.as_deref();
        let collection = |objects: Vec<&DirObject>| {
            Value::Array(
                objects
                    .into_iter()
                    .take(EXPANDED_COLLECTION_LIMIT)
                    .map(|o| with_type(o, select))
                    .collect(),
            )
        };
        let value = match e.property.as_str() {
            "manager" => dir.manager(&object.id).ok().map(|m| with_type(m, select)),
            "directReports" => dir.direct_reports(&object.id).ok().map(collection),
            "memberOf" => dir.member_of(object.kind, &object.id).ok().map(collection),
            "members" => dir
                .members(&object.id, 0, EXPANDED_COLLECTION_LIMIT)
                .ok()
                .map(|(page, _)| collection(page)),
            "owners" => dir.owners(&object.id).ok().map(collection),
            _ => None,
        };
        if let Some(value) = value {
            out.insert(e.property.clone(), value);
        }
    }
}

/// A list's `$skiptoken`: the creation position of the last object shown, or (with
/// `$orderby`) how many objects came before the next page.
#[derive(Debug, Serialize, Deserialize)]
struct ListToken {
    #[serde(default)]
    a: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    o: Option<usize>,
}

/// What `$search` looks in, by resource (the documented displayName and mail, and the
/// other name-like properties the directory indexes for search).
fn searchable(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::User => &[
            "displayName",
            "mail",
            "userPrincipalName",
            "givenName",
            "surname",
            "mailNickname",
        ],
        Kind::Group => &["displayName", "mail", "mailNickname", "description"],
    }
}

/// `$orderby` works on these without an advanced query.
fn sortable_by_default(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::User => &["displayName", "userPrincipalName"],
        Kind::Group => &["displayName"],
    }
}

fn sorting_not_supported() -> GraphError {
    GraphError::unsupported_query("Sorting not supported for current query.")
}

// ---- collections -----------------------------------------------------------------------

fn list(
    state: &AppState,
    kind: Kind,
    rules: &FilterRules,
    base: &Base,
    headers: &HeaderMap,
    pairs: &[(String, String)],
) -> AppResult {
    let q = QueryOptions::parse(pairs)?;
    if let Some(select) = &q.select {
        check_select(kind, select)?;
    }
    let eventual = is_eventual(headers);
    let advanced = eventual && q.count;
    if let Some(filter) = &q.filter {
        filter.validate(rules, advanced)?;
    }
    if let Some(search) = &q.search {
        if !eventual {
            return Err(GraphError::unsupported_query(
                "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
            ));
        }
        let clauses = std::iter::once(&search.first).chain(search.rest.iter().map(|(_, c)| c));
        for clause in clauses {
            if !searchable(kind).contains(&clause.property.as_str()) {
                return Err(GraphError::unsupported_query(format!(
                    "Unsupported or invalid search clause specified for property '{}' of resource '{}'.",
                    clause.property,
                    kind.resource()
                )));
            }
        }
    }
    check_expand(kind, &q.expand)?;
    if let Some(order_by) = &q.orderby {
        check_select(kind, std::slice::from_ref(&order_by.property))?;
        let by_default = sortable_by_default(kind).contains(&order_by.property.as_str());
        // Sorting anything else, or sorting a filtered list, is an advanced query.
        if !advanced && (!by_default || q.filter.is_some()) {
            return Err(sorting_not_supported());
        }
    }
    let token = match &q.skiptoken {
        Some(t) => Some(decode_token::<ListToken>(t).ok_or_else(bad_skiptoken)?),
        None => None,
    };
    state.directory().check_extension_names(
        kind,
        q.select
            .iter()
            .flatten()
            .map(String::as_str)
            .chain(q.filter.iter().flat_map(|f| f.properties()))
            .chain(q.orderby.iter().map(|o| o.property.as_str())),
    )?;
    let set = match kind {
        Kind::User => "users",
        Kind::Group => "groups",
    };
    let query = Selection {
        filter: q.filter.as_ref(),
        search: q.search.as_ref(),
    };
    let dir = state.directory();
    let (page, next) = match &q.orderby {
        Some(order_by) => {
            let offset = token.and_then(|t| t.o).unwrap_or(0);
            let (page, next) = dir.list_sorted(kind, query, order_by, offset, q.page_size());
            (page, next.map(|o| ListToken { a: 0, o: Some(o) }))
        }
        None => {
            let after = token.map_or(0, |t| t.a);
            let (page, next) = dir.list(kind, query, after, q.page_size());
            (page, next.map(|a| ListToken { a, o: None }))
        }
    };
    let mut body = Map::new();
    body.insert(
        "@odata.context".to_owned(),
        json!(context_with_select(base, set, q.select.as_deref(), false)),
    );
    // `$count=true` without `ConsistencyLevel: eventual` is silently ignored.
    if advanced {
        body.insert("@odata.count".to_owned(), json!(dir.count(kind, query)));
    }
    if let Some(next) = next {
        let token = encode_token(&next);
        body.insert(
            "@odata.nextLink".to_owned(),
            json!(link(base, set, pairs, ("$skiptoken", token))),
        );
    }
    let value: Vec<Value> = page
        .iter()
        .filter(|o| !state.not_yet_visible(&o.id))
        .map(|o| {
            let mut rendered = o.render(q.select.as_deref());
            add_expansions(&dir, o, &q.expand, &mut rendered);
            Value::Object(rendered)
        })
        .collect();
    body.insert("value".to_owned(), Value::Array(value));
    Ok(odata_json(StatusCode::OK, &Value::Object(body)))
}

fn get_one(
    state: &AppState,
    kind: Kind,
    base: &Base,
    key: &str,
    pairs: &[(String, String)],
) -> AppResult {
    let q = QueryOptions::parse(pairs)?;
    if let Some(select) = &q.select {
        check_select(kind, select)?;
    }
    check_expand(kind, &q.expand)?;
    let dir = state.directory();
    dir.check_extension_names(kind, q.select.iter().flatten().map(String::as_str))?;
    let object = dir.get(kind, key)?;
    if state.not_yet_visible(&object.id) {
        return Err(GraphError::not_found(key));
    }
    let set = match kind {
        Kind::User => "users",
        Kind::Group => "groups",
    };
    let mut body = Map::new();
    body.insert(
        "@odata.context".to_owned(),
        json!(context_with_select(base, set, q.select.as_deref(), true)),
    );
    body.extend(object.render(q.select.as_deref()));
    add_expansions(&dir, object, &q.expand, &mut body);
    Ok(odata_json(StatusCode::OK, &Value::Object(body)))
}

fn created(base: &Base, set: &str, object: &DirObject) -> Response {
    let mut body = Map::new();
    body.insert(
        "@odata.context".to_owned(),
        json!(base.context(&format!("{set}/$entity"))),
    );
    body.extend(object.render(None));
    let mut response = odata_json(StatusCode::CREATED, &Value::Object(body));
    if let Ok(location) = HeaderValue::from_str(&format!("{}/v1.0/{set}/{}", base.0, object.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

// ---- users ---------------------------------------------------------------------------

async fn list_users(
    State(state): Shared,
    base: Base,
    headers: HeaderMap,
    Query(pairs): Pairs,
) -> AppResult {
    list(&state, Kind::User, &USER_FILTERS, &base, &headers, &pairs)
}

async fn count_users(State(state): Shared, headers: HeaderMap, Query(pairs): Pairs) -> AppResult {
    count_segment(&state, Kind::User, &USER_FILTERS, &headers, &pairs)
}

async fn count_groups(State(state): Shared, headers: HeaderMap, Query(pairs): Pairs) -> AppResult {
    count_segment(&state, Kind::Group, &GROUP_FILTERS, &headers, &pairs)
}

/// `GET /users/$count`: a plain-text number, only as an advanced query.
fn count_segment(
    state: &AppState,
    kind: Kind,
    rules: &FilterRules,
    headers: &HeaderMap,
    pairs: &[(String, String)],
) -> AppResult {
    if !is_eventual(headers) {
        return Err(GraphError::bad_request(
            "$count is not currently supported.",
        ));
    }
    let q = QueryOptions::parse(pairs)?;
    if let Some(filter) = &q.filter {
        filter.validate(rules, true)?;
    }
    let query = Selection {
        filter: q.filter.as_ref(),
        search: q.search.as_ref(),
    };
    let n = state.directory().count(kind, query);
    let mut response = (StatusCode::OK, n.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=utf-8"),
    );
    Ok(response)
}

async fn create_user(State(state): Shared, base: Base, body: Bytes) -> AppResult {
    let body = parse_object(&body)?;
    let id = state.ids.guid();
    let now = state.clock.now();
    let mut dir = state.directory();
    let user = dir.create_user(body, id, now)?;
    state.note_created(&user.id);
    Ok(created(&base, "users", user))
}

async fn get_user(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    Query(pairs): Pairs,
) -> AppResult {
    get_one(&state, Kind::User, &base, &id, &pairs)
}

async fn update_user(State(state): Shared, Path(id): Path<String>, body: Bytes) -> AppResult {
    let patch = parse_object(&body)?;
    state.directory().update_user(&id, patch)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn delete_user(State(state): Shared, Path(id): Path<String>) -> AppResult {
    let now = state.clock.now();
    state.directory().delete_user(&id, now)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn user_member_of(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    Query(pairs): Pairs,
) -> AppResult {
    let q = QueryOptions::parse(&pairs)?;
    let dir = state.directory();
    let groups = dir.member_of(Kind::User, &id)?;
    let value: Vec<Value> = groups
        .iter()
        .map(|g| with_type(g, q.select.as_deref()))
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("directoryObjects"), "value": value}),
    ))
}

/// A collection of directory objects, each with its `@odata.type`.
fn directory_objects(base: &Base, objects: &[&DirObject], pairs: &[(String, String)]) -> AppResult {
    let q = QueryOptions::parse(pairs)?;
    let value: Vec<Value> = objects
        .iter()
        .map(|o| with_type(o, q.select.as_deref()))
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("directoryObjects"), "value": value}),
    ))
}

async fn user_transitive_member_of(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    Query(pairs): Pairs,
) -> AppResult {
    let dir = state.directory();
    directory_objects(&base, &dir.transitive_member_of(Kind::User, &id)?, &pairs)
}

async fn group_member_of(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    Query(pairs): Pairs,
) -> AppResult {
    let dir = state.directory();
    directory_objects(&base, &dir.member_of(Kind::Group, &id)?, &pairs)
}

async fn group_transitive_member_of(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    Query(pairs): Pairs,
) -> AppResult {
    let dir = state.directory();
    directory_objects(&base, &dir.transitive_member_of(Kind::Group, &id)?, &pairs)
}

async fn group_transitive_members(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    Query(pairs): Pairs,
) -> AppResult {
    let dir = state.directory();
    directory_objects(&base, &dir.transitive_members(&id)?, &pairs)
}

async fn assign_license(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult {
    let body = parse_object(&body)?;
    let mut dir = state.directory();
    let user = dir.assign_license(&id, &body)?;
    let mut out = Map::new();
    out.insert(
        "@odata.context".to_owned(),
        json!(base.context("users/$entity")),
    );
    out.extend(user.render(None));
    Ok(odata_json(StatusCode::OK, &Value::Object(out)))
}

async fn user_license_details(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
) -> AppResult {
    let dir = state.directory();
    let user = dir.get(Kind::User, &id)?;
    let value: Vec<Value> = user
        .props
        .get("assignedLicenses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| {
            let sku = crate::licenses::sku(l["skuId"].as_str()?)?;
            let disabled: Vec<String> = l["disabledPlans"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str().map(str::to_owned))
                .collect();
            Some(crate::licenses::license_details(&user.id, sku, &disabled))
        })
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context(&format!("users('{}')/licenseDetails", user.id)), "value": value}),
    ))
}

async fn organization(State(state): Shared, base: Base) -> AppResult {
    let domain = &state.identity.initial_domain;
    let org = json!({
        "id": state.identity.tenant_id,
        "deletedDateTime": null,
        "displayName": "Contoso",
        "countryLetterCode": "US",
        "preferredLanguage": "en",
        "tenantType": "AAD",
        "onPremisesSyncEnabled": null,
        "verifiedDomains": [{
            "capabilities": "Email, OfficeCommunicationsOnline",
            "isDefault": true, "isInitial": true, "name": domain, "type": "Managed"
        }],
    });
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("organization"), "value": [org]}),
    ))
}

async fn domains(State(state): Shared, base: Base) -> AppResult {
    let domain = json!({
        "authenticationType": "Managed",
        "id": state.identity.initial_domain,
        "isAdminManaged": true,
        "isDefault": true,
        "isInitial": true,
        "isRoot": true,
        "isVerified": true,
        "supportedServices": ["Email", "OfficeCommunicationsOnline"],
    });
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("domains"), "value": [domain]}),
    ))
}

async fn subscribed_skus(State(state): Shared, base: Base) -> AppResult {
    let dir = state.directory();
    let value: Vec<Value> = crate::licenses::SKUS
        .iter()
        .map(|s| {
            crate::licenses::subscribed_sku(
                &state.identity.tenant_id,
                s,
                dir.consumed_units(s.sku_id),
            )
        })
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("subscribedSkus"), "value": value}),
    ))
}

fn reference_in(body: &Bytes) -> Result<String, GraphError> {
    let body = parse_object(body)?;
    body.get("@odata.id")
        .and_then(Value::as_str)
        .and_then(reference_id)
        .map(str::to_owned)
        .ok_or_else(|| {
            GraphError::odata_bad_request(
                "The request body must contain an '@odata.id' with a directoryObjects reference URL.",
            )
        })
}

async fn get_manager(State(state): Shared, base: Base, Path(id): Path<String>) -> AppResult {
    let dir = state.directory();
    let manager = dir.manager(&id)?;
    let mut body = json!({"@odata.context": base.context("directoryObjects/$entity")});
    if let (Value::Object(target), Value::Object(source)) = (&mut body, with_type(manager, None)) {
        target.extend(source);
    }
    Ok(odata_json(StatusCode::OK, &body))
}

async fn set_manager(State(state): Shared, Path(id): Path<String>, body: Bytes) -> AppResult {
    let manager = reference_in(&body)?;
    state.directory().set_manager(&id, &manager)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn remove_manager(State(state): Shared, Path(id): Path<String>) -> AppResult {
    state.directory().remove_manager(&id)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn direct_reports(State(state): Shared, base: Base, Path(id): Path<String>) -> AppResult {
    let dir = state.directory();
    let value: Vec<Value> = dir
        .direct_reports(&id)?
        .into_iter()
        .map(|o| with_type(o, None))
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("directoryObjects"), "value": value}),
    ))
}

/// What `$skiptoken` and `$deltatoken` carry in a delta round. The selected properties
/// travel in the token, so later links need not repeat `$select`.
#[derive(Debug, Serialize, Deserialize)]
struct DeltaToken {
    i: bool,
    s: u64,
    u: u64,
    a: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sel: Option<Vec<String>>,
    /// When the round that issued the token started (Unix seconds), for expiry.
    #[serde(default)]
    t: i64,
    /// How many of the first group's `members@delta` earlier pages already carried (a
    /// large group is spread across pages).
    #[serde(default, skip_serializing_if = "is_zero")]
    m: usize,
    /// `$filter=id eq '…' or …`: only these objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    f: Option<Vec<String>>,
    /// `$expand=members` (groups).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    x: bool,
}

/// Delta takes `$filter` only as `id eq '…'` clauses joined by `or`, at most 50.
const MAX_DELTA_FILTER_IDS: usize = 50;

fn delta_filter_ids(filter: &crate::odata::Filter) -> Option<Vec<String>> {
    use crate::odata::{CmpOp, Filter, Literal};
    match filter {
        Filter::Cmp {
            property,
            op: CmpOp::Eq,
            value: Literal::Str(id),
        } if property == "id" => Some(vec![id.to_lowercase()]),
        Filter::Or(a, b) => {
            let mut ids = delta_filter_ids(a)?;
            ids.extend(delta_filter_ids(b)?);
            Some(ids)
        }
        _ => None,
    }
}

/// `Prefer: return=minimal`: later rounds carry only the changed properties.
fn prefers_minimal(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("return=minimal"))
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Delta tokens for directory objects expire after 7 days.
const DELTA_TOKEN_LIFETIME_SECS: i64 = 7 * 24 * 3600;

fn sync_state_not_found() -> GraphError {
    // The documents name the code and a 40X status; 410 Gone is what the captured
    // (Outlook) form uses.
    GraphError::new(
        StatusCode::GONE,
        "syncStateNotFound",
        "The delta token is expired and data must be synchronized again.",
    )
}

async fn users_delta(
    State(state): Shared,
    base: Base,
    headers: HeaderMap,
    Query(pairs): Pairs,
) -> AppResult {
    delta(&state, Kind::User, &base, &headers, &pairs)
}

async fn groups_delta(
    State(state): Shared,
    base: Base,
    headers: HeaderMap,
    Query(pairs): Pairs,
) -> AppResult {
    delta(&state, Kind::Group, &base, &headers, &pairs)
}

/// One page of `/users/delta` or `/groups/delta`.
fn delta(
    state: &AppState,
    kind: Kind,
    base: &Base,
    headers: &HeaderMap,
    pairs: &[(String, String)],
) -> AppResult {
    let set = match kind {
        Kind::User => "users",
        Kind::Group => "groups",
    };
    let q = QueryOptions::parse(pairs)?;
    if q.top.is_some() {
        return Err(GraphError::unsupported_query(
            "The $top query parameter is not supported with delta queries.",
        ));
    }
    let filter_ids = match &q.filter {
        None => None,
        Some(filter) => {
            let ids = delta_filter_ids(filter).ok_or_else(|| {
                GraphError::unsupported_query(
                    "Unsupported or invalid query filter clause specified for delta query.",
                )
            })?;
            if ids.len() > MAX_DELTA_FILTER_IDS {
                return Err(GraphError::unsupported_query(format!(
                    "A delta query can filter on at most {MAX_DELTA_FILTER_IDS} ids."
                )));
            }
            Some(ids)
        }
    };
    let expand_members = match (kind, q.expand.as_slice()) {
        (_, []) => false,
        (Kind::Group, [e]) if e.property == "members" => true,
        _ => {
            return Err(GraphError::unsupported_query(
                "The $expand query parameter is not supported with delta queries (except members on groups).",
            ));
        }
    };
    let minimal = prefers_minimal(headers);
    let now = state.clock.now().as_second();
    let dir = state.directory();
    let current = dir.current_seq();
    let mut member_offset = 0;
    let (cursor, select, first_page, filter_ids, expand_members) = if let Some(token) = &q.skiptoken
    {
        let t: DeltaToken = decode_token(token).ok_or_else(bad_skiptoken)?;
        let cursor = DeltaCursor {
            initial: t.i,
            since: t.s,
            upto: t.u,
            after: t.a,
        };
        member_offset = t.m;
        (cursor, t.sel, false, t.f, t.x)
    } else if let Some(token) = &q.deltatoken {
        if token == "latest" {
            // "Sync from now": no data, only a delta link.
            let link_token = encode_token(&DeltaToken {
                t: now,
                i: false,
                s: current,
                u: 0,
                a: 0,
                sel: q.select.clone(),
                m: 0,
                f: filter_ids,
                x: expand_members,
            });
            return Ok(odata_json(
                StatusCode::OK,
                &json!({
                    "@odata.context": base.context(set),
                    "@odata.deltaLink": format!("{}/v1.0/{set}/delta?$deltatoken={link_token}", base.0),
                    "value": [],
                }),
            ));
        }
        let t: DeltaToken = decode_token(token).ok_or_else(sync_state_not_found)?;
        if now - t.t > DELTA_TOKEN_LIFETIME_SECS {
            return Err(sync_state_not_found());
        }
        let cursor = DeltaCursor {
            initial: false,
            since: t.s,
            upto: current,
            after: t.s,
        };
        (cursor, t.sel, false, t.f, t.x)
    } else {
        if let Some(select) = &q.select {
            check_select(kind, select)?;
        }
        let cursor = DeltaCursor {
            initial: true,
            since: 0,
            upto: current,
            after: 0,
        };
        (cursor, q.select.clone(), true, filter_ids, expand_members)
    };
    let wanted = |id: &str| {
        filter_ids
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|f| f.eq_ignore_ascii_case(id)))
    };
    let view = DeltaView {
        cursor,
        select: select.as_deref(),
        members: expand_members,
        minimal: minimal && !cursor.initial,
    };
    let limit = max_page_size(headers).unwrap_or(crate::odata::DEFAULT_PAGE_SIZE);
    let page = dir.delta(kind, cursor, select.as_deref(), limit);
    // A page carries at most `limit` member references in all; a group with more is
    // continued on the next page (the group again, with the next members).
    let mut member_budget = limit;
    let mut next = page.next;
    let mut next_member_offset = 0;
    let mut value: Vec<Value> = Vec::new();
    for (i, (seq, entry)) in page.entries.iter().enumerate() {
        match entry {
            DeltaEntry::Object(o) if !wanted(&o.id) => continue,
            DeltaEntry::Removed { id, .. } if !wanted(id) => continue,
            DeltaEntry::Object(o) => {
                let skip = if i == 0 { member_offset } else { 0 };
                let (rendered, rest) = render_delta_object(&dir, o, &view, skip, member_budget);
                value.push(rendered);
                if let Some(taken) = rest {
                    next = Some(DeltaCursor {
                        after: seq - 1,
                        ..cursor
                    });
                    next_member_offset = skip + taken;
                    break;
                }
            }
            DeltaEntry::Removed { id, reason } => {
                value.push(json!({"id": id, "@removed": {"reason": reason.as_str()}}));
            }
        }
        if matches!(entry, DeltaEntry::Object(o) if o.kind == Kind::Group) {
            member_budget = member_budget.saturating_sub(
                value
                    .last()
                    .and_then(|v| v.get("members@delta"))
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len),
            );
        }
    }
    let context = if first_page {
        context_with_select(base, set, select.as_deref(), false)
    } else {
        base.context(set)
    };
    let mut body = json!({"@odata.context": context});
    match next {
        Some(next) => {
            let token = encode_token(&DeltaToken {
                t: now,
                i: next.initial,
                s: next.since,
                u: next.upto,
                a: next.after,
                sel: select.clone(),
                m: next_member_offset,
                f: filter_ids,
                x: expand_members,
            });
            body["@odata.nextLink"] =
                json!(format!("{}/v1.0/{set}/delta?$skiptoken={token}", base.0));
        }
        None => {
            let token = encode_token(&DeltaToken {
                t: now,
                i: false,
                s: page.next_round_since,
                u: 0,
                a: 0,
                sel: select.clone(),
                m: 0,
                f: filter_ids,
                x: expand_members,
            });
            body["@odata.deltaLink"] =
                json!(format!("{}/v1.0/{set}/delta?$deltatoken={token}", base.0));
        }
    }
    body["value"] = Value::Array(value);
    let minimal = view.minimal;
    let mut response = odata_json(StatusCode::OK, &body);
    if minimal {
        response.headers_mut().insert(
            "preference-applied",
            HeaderValue::from_static("return=minimal"),
        );
    }
    Ok(response)
}

/// How a delta request wants its objects shown.
struct DeltaView<'a> {
    cursor: DeltaCursor,
    select: Option<&'a [String]>,
    /// `$expand=members` on group delta.
    members: bool,
    /// `Prefer: return=minimal` on a later round: only changed properties.
    minimal: bool,
}

/// A changed object in a delta page. Groups carry `members@delta` when no `$select` is
/// given or when it names `members`: the members after `skip`, at most `budget` of them.
/// The second value is how many were taken when more remain for the next page.
fn render_delta_object(
    dir: &crate::directory::Directory,
    object: &DirObject,
    view: &DeltaView<'_>,
    skip: usize,
    budget: usize,
) -> (Value, Option<usize>) {
    let (cursor, select) = (view.cursor, view.select);
    let mut props: Option<Vec<String>> = select.map(|s| {
        s.iter()
            .filter(|p| *p != "members" && *p != "manager")
            .cloned()
            .collect()
    });
    if view.minimal
        && let Some(changed) = object.changed_after(cursor.since)
    {
        // Only what changed (and was selected); `id` always comes.
        let changed: Vec<String> = changed
            .into_iter()
            .filter(|p| *p != "members" && *p != "manager")
            .filter(|p| props.as_ref().is_none_or(|s| s.iter().any(|x| x == p)))
            .map(str::to_owned)
            .collect();
        props = Some(changed);
    }
    let mut map = object.render(props.as_deref());
    let with_members = view.members || select.is_none_or(|s| s.iter().any(|p| p == "members"));
    let mut rest = None;
    if object.kind == Kind::Group && with_members {
        let all = dir.members_delta(&object.id, cursor);
        let remaining = all.len().saturating_sub(skip);
        let taken = remaining.min(budget.max(1));
        if taken < remaining {
            rest = Some(taken);
        }
        let members: Vec<Value> = all
            .into_iter()
            .skip(skip)
            .take(taken)
            .map(|m| {
                let mut v = json!({"@odata.type": m.kind.odata_type(), "id": m.id});
                if !m.present {
                    v["@removed"] = json!({"reason": "deleted"});
                }
                v
            })
            .collect();
        map.insert("members@delta".to_owned(), Value::Array(members));
    }
    (Value::Object(map), rest)
}

// ---- groups --------------------------------------------------------------------------

async fn list_groups(
    State(state): Shared,
    base: Base,
    headers: HeaderMap,
    Query(pairs): Pairs,
) -> AppResult {
    list(&state, Kind::Group, &GROUP_FILTERS, &base, &headers, &pairs)
}

async fn create_group(State(state): Shared, base: Base, body: Bytes) -> AppResult {
    let body = parse_object(&body)?;
    let id = state.ids.guid();
    let sid = security_identifier(&id);
    let now = state.clock.now();
    let mut dir = state.directory();
    let group = dir.create_group(body, id, sid, now)?;
    state.note_created(&group.id);
    Ok(created(&base, "groups", group))
}

/// Entra derives a cloud group's SID from its object id: `S-1-12-1-` and the GUID's 16
/// bytes as four little-endian 32-bit numbers.
fn security_identifier(id: &str) -> String {
    let hex: String = id.chars().filter(char::is_ascii_hexdigit).collect();
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect();
    // GUID byte order: the first three fields are stored little-endian.
    let mut b = [0u8; 16];
    if bytes.len() == 16 {
        b.copy_from_slice(&bytes);
        b[0..4].reverse();
        b[4..6].reverse();
        b[6..8].reverse();
    }
    let parts: Vec<String> = b
        .chunks(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]).to_string())
        .collect();
    format!("S-1-12-1-{}", parts.join("-"))
}

async fn get_group(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    Query(pairs): Pairs,
) -> AppResult {
    get_one(&state, Kind::Group, &base, &id, &pairs)
}

async fn update_group(State(state): Shared, Path(id): Path<String>, body: Bytes) -> AppResult {
    let patch = parse_object(&body)?;
    state.directory().update_group(&id, patch)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn delete_group(State(state): Shared, Path(id): Path<String>) -> AppResult {
    state.directory().delete_group(&id)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

#[derive(Debug, Serialize, Deserialize)]
struct MembersToken {
    o: usize,
}

async fn group_members(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    Query(pairs): Pairs,
) -> AppResult {
    let q = QueryOptions::parse(&pairs)?;
    if let Some(select) = &q.select {
        check_select(Kind::User, select)?;
    }
    let after = match &q.skiptoken {
        Some(t) => decode_token::<MembersToken>(t).ok_or_else(bad_skiptoken)?.o,
        None => 0,
    };
    let dir = state.directory();
    let (page, next) = dir.members(&id, after, q.page_size())?;
    let value: Vec<Value> = page
        .iter()
        .map(|o| with_type(o, q.select.as_deref()))
        .collect();
    let mut body = json!({"@odata.context": base.context("directoryObjects")});
    if let Some(offset) = next {
        let token = encode_token(&MembersToken { o: offset });
        body["@odata.nextLink"] = json!(link(
            &base,
            &format!("groups/{id}/members"),
            &pairs,
            ("$skiptoken", token)
        ));
    }
    body["value"] = Value::Array(value);
    Ok(odata_json(StatusCode::OK, &body))
}

/// The type an OData cast segment names: `microsoft.graph.user` or the SDKs'
/// `graph.user` alias (and the same for groups).
fn cast_kind(cast: &str) -> Result<Kind, GraphError> {
    let name = cast
        .strip_prefix("microsoft.graph.")
        .or_else(|| cast.strip_prefix("graph."));
    match name {
        Some("user") => Ok(Kind::User),
        Some("group") => Ok(Kind::Group),
        _ => Err(GraphError::odata_bad_request(format!(
            "Resource not found for the segment '{cast}'."
        ))),
    }
}

/// A cast collection (`…/members/microsoft.graph.user`): only objects of that type,
/// without `@odata.type` (the context names the type), paged by offset.
fn cast_collection(
    base: &Base,
    path: &str,
    kind: Kind,
    objects: Vec<&DirObject>,
    pairs: &[(String, String)],
) -> AppResult {
    let q = QueryOptions::parse(pairs)?;
    if let Some(select) = &q.select {
        check_select(kind, select)?;
    }
    let offset = match &q.skiptoken {
        Some(t) => decode_token::<MembersToken>(t).ok_or_else(bad_skiptoken)?.o,
        None => 0,
    };
    let of_kind: Vec<&DirObject> = objects.into_iter().filter(|o| o.kind == kind).collect();
    let rest = of_kind.get(offset..).unwrap_or(&[]);
    let limit = q.page_size();
    let value: Vec<Value> = rest
        .iter()
        .take(limit)
        .map(|o| Value::Object(o.render(q.select.as_deref())))
        .collect();
    let set = match kind {
        Kind::User => "users",
        Kind::Group => "groups",
    };
    let mut body = json!({"@odata.context": base.context(set)});
    if rest.len() > limit {
        let token = encode_token(&MembersToken { o: offset + limit });
        body["@odata.nextLink"] = json!(link(base, path, pairs, ("$skiptoken", token)));
    }
    body["value"] = Value::Array(value);
    Ok(odata_json(StatusCode::OK, &body))
}

async fn group_members_cast(
    State(state): Shared,
    base: Base,
    Path((id, cast)): Path<(String, String)>,
    Query(pairs): Pairs,
) -> AppResult {
    let kind = cast_kind(&cast)?;
    let dir = state.directory();
    let (members, _) = dir.members(&id, 0, usize::MAX)?;
    cast_collection(
        &base,
        &format!("groups/{id}/members/{cast}"),
        kind,
        members,
        &pairs,
    )
}

async fn user_member_of_cast(
    State(state): Shared,
    base: Base,
    Path((id, cast)): Path<(String, String)>,
    Query(pairs): Pairs,
) -> AppResult {
    let kind = cast_kind(&cast)?;
    let dir = state.directory();
    let groups = dir.member_of(Kind::User, &id)?;
    cast_collection(
        &base,
        &format!("users/{id}/memberOf/{cast}"),
        kind,
        groups,
        &pairs,
    )
}

async fn user_transitive_member_of_cast(
    State(state): Shared,
    base: Base,
    Path((id, cast)): Path<(String, String)>,
    Query(pairs): Pairs,
) -> AppResult {
    let kind = cast_kind(&cast)?;
    let dir = state.directory();
    let groups = dir.transitive_member_of(Kind::User, &id)?;
    let path = format!("users/{id}/transitiveMemberOf/{cast}");
    cast_collection(&base, &path, kind, groups, &pairs)
}

async fn group_transitive_members_cast(
    State(state): Shared,
    base: Base,
    Path((id, cast)): Path<(String, String)>,
    Query(pairs): Pairs,
) -> AppResult {
    let kind = cast_kind(&cast)?;
    let dir = state.directory();
    let members = dir.transitive_members(&id)?;
    let path = format!("groups/{id}/transitiveMembers/{cast}");
    cast_collection(&base, &path, kind, members, &pairs)
}

async fn add_member(State(state): Shared, Path(id): Path<String>, body: Bytes) -> AppResult {
    let member = reference_in(&body)?;
    state.directory().add_member(&id, &member)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn remove_member(
    State(state): Shared,
    Path((id, member)): Path<(String, String)>,
) -> AppResult {
    state.directory().remove_member(&id, &member)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `POST /groups/{id}/assignLicense`: 202 Accepted with the group and a `Location`
/// header, as documented (the real service applies the licenses to members
/// asynchronously; here they apply before the response).
async fn assign_group_license(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult {
    let body = parse_object(&body)?;
    let mut dir = state.directory();
    let group = dir.assign_group_license(&id, &body)?;
    let mut out = Map::new();
    out.insert(
        "@odata.context".to_owned(),
        json!(base.context("groups/$entity")),
    );
    out.extend(group.render(None));
    out.insert(
        "assignedLicenses".to_owned(),
        group
            .props
            .get("assignedLicenses")
            .cloned()
            .unwrap_or(json!([])),
    );
    let mut response = odata_json(StatusCode::ACCEPTED, &Value::Object(out));
    if let Ok(location) = HeaderValue::from_str(&format!("{}/v1.0/groups/{}", base.0, group.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn group_owners(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    Query(pairs): Pairs,
) -> AppResult {
    let q = QueryOptions::parse(&pairs)?;
    if let Some(select) = &q.select {
        check_select(Kind::User, select)?;
    }
    let dir = state.directory();
    let value: Vec<Value> = dir
        .owners(&id)?
        .into_iter()
        .map(|o| with_type(o, q.select.as_deref()))
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("directoryObjects"), "value": value}),
    ))
}

async fn add_owner(State(state): Shared, Path(id): Path<String>, body: Bytes) -> AppResult {
    let owner = reference_in(&body)?;
    state.directory().add_owner(&id, &owner)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn remove_owner(
    State(state): Shared,
    Path((id, owner)): Path<(String, String)>,
) -> AppResult {
    state.directory().remove_owner(&id, &owner)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

// ---- applications and directory extensions ----------------------------------------

/// The one application registered in the emulated tenant (the client the emulator hands
/// out). Its object id differs from its appId, as in Entra: here the appId's hex digits
/// reversed.
fn application_object_id(state: &AppState) -> String {
    let hex: String = state
        .identity
        .client_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .rev()
        .collect();
    if hex.len() != 32 {
        return state.identity.client_id.clone();
    }
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

const APP_DISPLAY_NAME: &str = "idsync";

fn application_json(state: &AppState) -> Value {
    json!({
        "id": application_object_id(state),
        "deletedDateTime": null,
        "appId": state.identity.client_id,
        "displayName": APP_DISPLAY_NAME,
        "signInAudience": "AzureADMyOrg",
        "publisherDomain": state.identity.initial_domain,
    })
}

/// Finds the application by object id; anything else is 404.
fn application(state: &AppState, id: &str) -> Result<(), GraphError> {
    if id.eq_ignore_ascii_case(&application_object_id(state)) {
        Ok(())
    } else {
        Err(GraphError::not_found(id))
    }
}

async fn list_applications(State(state): Shared, base: Base) -> AppResult {
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("applications"), "value": [application_json(&state)]}),
    ))
}

async fn get_application(State(state): Shared, base: Base, Path(id): Path<String>) -> AppResult {
    application(&state, &id)?;
    let mut body = application_json(&state);
    body["@odata.context"] = json!(base.context("applications/$entity"));
    Ok(odata_json(StatusCode::OK, &body))
}

async fn list_extension_properties(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
) -> AppResult {
    application(&state, &id)?;
    let value: Vec<Value> = state
        .directory()
        .extensions()
        .iter()
        .map(|e| e.to_json(APP_DISPLAY_NAME))
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context(&format!("applications('{id}')/extensionProperties")), "value": value}),
    ))
}

async fn create_extension_property(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult {
    application(&state, &id)?;
    let body = parse_object(&body)?;
    let extension = crate::extensions::ExtensionProperty::from_request(
        &body,
        &state.identity.client_id,
        state.ids.guid(),
    )?;
    let mut dir = state.directory();
    let extension = dir.register_extension(extension)?;
    let mut out = extension.to_json(APP_DISPLAY_NAME);
    out["@odata.context"] =
        json!(base.context(&format!("applications('{id}')/extensionProperties/$entity")));
    Ok(odata_json(StatusCode::CREATED, &out))
}

async fn get_extension_property(
    State(state): Shared,
    base: Base,
    Path((id, ext)): Path<(String, String)>,
) -> AppResult {
    application(&state, &id)?;
    let dir = state.directory();
    let extension = dir
        .extensions()
        .iter()
        .find(|e| e.id.eq_ignore_ascii_case(&ext))
        .ok_or_else(|| GraphError::not_found(&ext))?;
    let mut out = extension.to_json(APP_DISPLAY_NAME);
    out["@odata.context"] =
        json!(base.context(&format!("applications('{id}')/extensionProperties/$entity")));
    Ok(odata_json(StatusCode::OK, &out))
}

async fn delete_extension_property(
    State(state): Shared,
    Path((id, ext)): Path<(String, String)>,
) -> AppResult {
    application(&state, &id)?;
    state.directory().unregister_extension(&ext)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

// ---- roles ---------------------------------------------------------------------------

const ROLE_ASSIGNMENT_FILTERS: FilterRules = FilterRules {
    resource: "UnifiedRoleAssignment",
    comparable: &["id", "principalId", "roleDefinitionId", "directoryScopeId"],
    starts_with: &[],
    ends_with: &[],
};

async fn list_role_definitions(State(_state): Shared, base: Base) -> AppResult {
    let value: Vec<Value> = crate::roles::ROLE_DEFINITIONS
        .iter()
        .map(crate::roles::definition_json)
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("roleManagement/directory/roleDefinitions"), "value": value}),
    ))
}

async fn get_role_definition(base: Base, Path(id): Path<String>) -> AppResult {
    let definition = crate::roles::definition(&id).ok_or_else(|| GraphError::not_found(&id))?;
    let mut body = crate::roles::definition_json(definition);
    body["@odata.context"] =
        json!(base.context("roleManagement/directory/roleDefinitions/$entity"));
    Ok(odata_json(StatusCode::OK, &body))
}

async fn list_role_assignments(State(state): Shared, base: Base, Query(pairs): Pairs) -> AppResult {
    let q = QueryOptions::parse(&pairs)?;
    if let Some(filter) = &q.filter {
        filter.validate(&ROLE_ASSIGNMENT_FILTERS, false)?;
    }
    let dir = state.directory();
    let value: Vec<Value> = dir
        .role_assignments()
        .iter()
        .map(crate::roles::RoleAssignment::to_json)
        .filter(|a| {
            let Value::Object(map) = a.clone() else {
                return false;
            };
            q.filter
                .as_ref()
                .is_none_or(|f| f.matches(&crate::props::Props::from(map)))
        })
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("roleManagement/directory/roleAssignments"), "value": value}),
    ))
}

async fn create_role_assignment(State(state): Shared, base: Base, body: Bytes) -> AppResult {
    let body = parse_object(&body)?;
    let text = |name: &str| body.get(name).and_then(Value::as_str);
    let (Some(role), Some(principal)) = (text("roleDefinitionId"), text("principalId")) else {
        return Err(GraphError::bad_request(
            "Both 'roleDefinitionId' and 'principalId' are required.",
        ));
    };
    let scope = match (text("directoryScopeId"), text("appScopeId")) {
        (Some(scope), None) => scope,
        (None, Some(_)) => {
            return Err(GraphError::bad_request(
                "Role assignments at an application scope (appScopeId) are not emulated; use directoryScopeId.",
            ));
        }
        _ => {
            return Err(GraphError::bad_request(
                "Exactly one of 'directoryScopeId' and 'appScopeId' must be given.",
            ));
        }
    };
    let mut dir = state.directory();
    let assignment = dir.assign_role(role, principal, scope)?;
    let mut out = assignment.to_json();
    out["@odata.context"] = json!(base.context("roleManagement/directory/roleAssignments/$entity"));
    Ok(odata_json(StatusCode::CREATED, &out))
}

async fn get_role_assignment(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
) -> AppResult {
    let dir = state.directory();
    let assignment = dir
        .role_assignments()
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| GraphError::not_found(&id))?;
    let mut out = assignment.to_json();
    out["@odata.context"] = json!(base.context("roleManagement/directory/roleAssignments/$entity"));
    Ok(odata_json(StatusCode::OK, &out))
}

async fn delete_role_assignment(State(state): Shared, Path(id): Path<String>) -> AppResult {
    state.directory().remove_role_assignment(&id)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

fn directory_role_json(d: &crate::roles::RoleDefinition) -> Value {
    json!({
        "id": crate::roles::directory_role_id(d),
        "deletedDateTime": null,
        "description": d.description,
        "displayName": d.display_name,
        "roleTemplateId": d.template_id,
    })
}

/// Activated roles: Global Administrator always, others once someone holds them.
async fn list_directory_roles(State(state): Shared, base: Base) -> AppResult {
    let dir = state.directory();
    let value: Vec<Value> = crate::roles::ROLE_DEFINITIONS
        .iter()
        .enumerate()
        .filter(|(i, d)| *i == 0 || !dir.role_members(d.template_id).is_empty())
        .map(|(_, d)| directory_role_json(d))
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("directoryRoles"), "value": value}),
    ))
}

fn directory_role(key: &str) -> Result<&'static crate::roles::RoleDefinition, GraphError> {
    crate::roles::by_directory_role_key(key).ok_or_else(|| GraphError::not_found(key))
}

async fn get_directory_role(base: Base, Path(id): Path<String>) -> AppResult {
    let mut body = directory_role_json(directory_role(&id)?);
    body["@odata.context"] = json!(base.context("directoryRoles/$entity"));
    Ok(odata_json(StatusCode::OK, &body))
}

async fn directory_role_members(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
) -> AppResult {
    let role = directory_role(&id)?;
    let dir = state.directory();
    let value: Vec<Value> = dir
        .role_members(role.template_id)
        .into_iter()
        .map(|o| with_type(o, None))
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("directoryObjects"), "value": value}),
    ))
}

async fn add_directory_role_member(
    State(state): Shared,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult {
    let role = directory_role(&id)?;
    let member = reference_in(&body)?;
    let mut dir = state.directory();
    if dir
        .role_members(role.template_id)
        .iter()
        .any(|m| m.id.eq_ignore_ascii_case(&member))
    {
        return Err(GraphError::bad_request(
            "One or more added object references already exist for the following modified properties: 'members'.",
        ));
    }
    dir.assign_role(role.template_id, &member, "/")?;
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn remove_directory_role_member(
    State(state): Shared,
    Path((id, member)): Path<(String, String)>,
) -> AppResult {
    let role = directory_role(&id)?;
    state
        .directory()
        .remove_role_member(role.template_id, &member)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

// ---- invitations ---------------------------------------------------------------------

/// `POST /invitations`: creates (or finds) the guest user and answers with the
/// invitation, as the documented example shows it.
async fn invite(State(state): Shared, base: Base, body: Bytes) -> AppResult {
    let body = parse_object(&body)?;
    let text = |name: &str| body.get(name).and_then(Value::as_str);
    for required in ["invitedUserEmailAddress", "inviteRedirectUrl"] {
        if text(required).is_none_or(str::is_empty) {
            return Err(GraphError::invalid_property_value(required, "Invitation"));
        }
    }
    let email = text("invitedUserEmailAddress").unwrap_or_default();
    let user_type = match text("invitedUserType") {
        None => "Guest",
        Some(t) if t.eq_ignore_ascii_case("guest") => "Guest",
        Some(t) if t.eq_ignore_ascii_case("member") => "Member",
        Some(_) => {
            return Err(GraphError::invalid_property_value(
                "invitedUserType",
                "Invitation",
            ));
        }
    };
    let send_message = match body.get("sendInvitationMessage") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(GraphError::odata_bad_request(format!(
                "Cannot convert the literal '{other}' to the expected type 'Edm.Boolean'."
            )));
        }
    };
    let id = state.ids.guid();
    let invitation_id = state.ids.guid();
    let ticket = state.ids.guid().replace('-', "");
    let now = state.clock.now();
    let mut dir = state.directory();
    let guest = dir.invite_guest(email, text("invitedUserDisplayName"), user_type, id, now)?;
    let tenant = &state.identity.tenant_id;
    let redeem = format!(
        "https://login.microsoftonline.com/redeem?rd=https%3a%2f%2finvitations.microsoft.com%2fredeem%2f%3ftenant%3d{tenant}%26user%3d{invitation_id}%26ticket%3d{ticket}%26ver%3d2.0"
    );
    let message_info = body
        .get("invitedUserMessageInfo")
        .cloned()
        .unwrap_or_else(|| {
            json!({"messageLanguage": null, "customizedMessageBody": null,
               "ccRecipients": [{"emailAddress": {"name": null, "address": null}}]})
        });
    let status = guest
        .props
        .get("externalUserState")
        .and_then(Value::as_str)
        .unwrap_or("PendingAcceptance")
        .to_owned();
    let response = json!({
        "@odata.context": base.context("invitations/$entity"),
        "id": invitation_id,
        "inviteRedeemUrl": redeem,
        "invitedUserDisplayName": body.get("invitedUserDisplayName").cloned().unwrap_or(Value::Null),
        "invitedUserType": user_type,
        "invitedUserEmailAddress": email,
        "sendInvitationMessage": send_message,
        "resetRedemption": body.get("resetRedemption").cloned().unwrap_or(json!(false)),
        "inviteRedirectUrl": text("inviteRedirectUrl"),
        "status": status,
        "invitedUserMessageInfo": message_info,
        "invitedUser": {"id": guest.id},
    });
    Ok(odata_json(StatusCode::CREATED, &response))
}

// ---- deleted items -------------------------------------------------------------------

async fn list_deleted_users(State(state): Shared, base: Base, Query(pairs): Pairs) -> AppResult {
    let q = QueryOptions::parse(&pairs)?;
    let dir = state.directory();
    let value: Vec<Value> = dir
        .deleted_users()
        .into_iter()
        .map(|o| with_type(o, q.select.as_deref()))
        .collect();
    Ok(odata_json(
        StatusCode::OK,
        &json!({"@odata.context": base.context("directory/deletedItems/microsoft.graph.user"), "value": value}),
    ))
}

async fn get_deleted_item(State(state): Shared, base: Base, Path(id): Path<String>) -> AppResult {
    let dir = state.directory();
    let object = dir.deleted_item(&id)?;
    let mut body = json!({"@odata.context": base.context("directoryObjects/$entity")});
    if let (Value::Object(target), Value::Object(source)) = (&mut body, with_type(object, None)) {
        target.extend(source);
    }
    Ok(odata_json(StatusCode::OK, &body))
}

async fn restore_deleted_item(
    State(state): Shared,
    base: Base,
    Path(id): Path<String>,
) -> AppResult {
    let mut dir = state.directory();
    let object = dir.restore(&id)?;
    let mut body = json!({"@odata.context": base.context("directoryObjects/$entity")});
    if let (Value::Object(target), Value::Object(source)) = (&mut body, with_type(object, None)) {
        target.extend(source);
    }
    Ok(odata_json(StatusCode::OK, &body))
}

async fn purge_deleted_item(State(state): Shared, Path(id): Path<String>) -> AppResult {
    state.directory().purge(&id)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

// ---- $batch --------------------------------------------------------------------------

/// Graph runs at most this many requests in one `$batch`.
pub const MAX_BATCH_REQUESTS: usize = 20;

/// `POST /v1.0/$batch`: each item runs through the whole Graph pipeline (authentication,
/// throttling, handler), so a batch is charged per item and an item can get its own 429.
/// Items run in order; one whose `dependsOn` failed gets 424. The responses come back
/// shuffled, as Graph may reorder them.
pub async fn batch(
    State(state): Shared,
    Extension(scheme): Extension<Scheme>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult {
    let body = parse_object(&body)?;
    let Some(Value::Array(requests)) = body.get("requests") else {
        return Err(GraphError::odata_bad_request(
            "Invalid batch payload format: the 'requests' property is missing.",
        ));
    };
    if requests.len() > MAX_BATCH_REQUESTS {
        return Err(GraphError::odata_bad_request(format!(
            "Number of requests in a batch exceeds the limit of {MAX_BATCH_REQUESTS}."
        )));
    }
    let mut seen: Vec<String> = Vec::new();
    for r in requests {
        let (Some(id), Some(_), Some(_)) = (
            r.get("id").and_then(Value::as_str),
            r.get("method").and_then(Value::as_str),
            r.get("url").and_then(Value::as_str),
        ) else {
            return Err(GraphError::odata_bad_request(
                "Invalid batch payload format: every request needs 'id', 'method' and 'url'.",
            ));
        };
        let key = id.to_lowercase();
        if seen.contains(&key) {
            return Err(GraphError::odata_bad_request(format!(
                "Batch request id '{id}' is not unique."
            )));
        }
        seen.push(key);
    }

    let router = crate::server::app(state.clone(), scheme.0);
    let mut statuses: HashMap<String, u16> = HashMap::new();
    let mut responses = Vec::new();
    for r in requests {
        let id = r["id"].as_str().unwrap_or_default().to_owned();
        let failed_dependency = r
            .get("dependsOn")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|d| {
                !statuses
                    .get(&d.to_lowercase())
                    .is_some_and(|s| (200..300).contains(s))
            });
        let (status, item_headers, item_body) = if failed_dependency {
            let error = GraphError::new(
                StatusCode::FAILED_DEPENDENCY,
                "BadRequest",
                "Failed dependency.",
            );
            let date = crate::clock::inner_error_date(state.clock.now());
            let rid = state.ids.guid();
            (424, json!({}), error.body(&rid, &rid, &date))
        } else {
            run_batch_item(&state, &router, r, &headers).await
        };
        statuses.insert(id.to_lowercase(), status);
        let mut item = json!({"id": id, "status": status, "headers": item_headers});
        if !item_body.is_null() {
            item["body"] = item_body;
        }
        responses.push(item);
    }
    // Items ran in request order (so dependsOn holds); the answers come back in any order.
    state.shuffle_batch(&mut responses);
    Ok(odata_json(StatusCode::OK, &json!({"responses": responses})))
}

/// The path of a batch item relative to `/v1.0/`. Items usually carry a relative URL;
/// Microsoft's Python SDK sends the absolute one (scheme, host and version included).
fn batch_item_path(url: &str) -> &str {
    let url = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => url,
    };
    let url = url.trim_start_matches('/');
    url.strip_prefix("v1.0/").unwrap_or(url)
}

async fn run_batch_item(
    state: &AppState,
    router: &Router,
    item: &Value,
    outer: &HeaderMap,
) -> (u16, Value, Value) {
    use tower::ServiceExt;

    let method = item["method"]
        .as_str()
        .unwrap_or("GET")
        .to_ascii_uppercase();
    let url = batch_item_path(item["url"].as_str().unwrap_or_default());
    let item_headers = item.get("headers").and_then(Value::as_object);
    let item_error = |error: GraphError| {
        let rid = state.ids.guid();
        let date = crate::clock::inner_error_date(state.clock.now());
        (
            error.status.as_u16(),
            json!({}),
            error.body(&rid, &rid, &date),
        )
    };
    let body = match item.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(_)
            if item_headers
                .is_none_or(|h| !h.keys().any(|k| k.eq_ignore_ascii_case("content-type"))) =>
        {
            let error = GraphError::odata_bad_request(
                "Content-Type header is required when a request has a body.",
            );
            return item_error(error);
        }
        Some(b) => b.to_string().into_bytes(),
    };
    let mut builder = axum::http::Request::builder()
        .method(method.as_str())
        .uri(format!("/v1.0/{url}"))
        .extension(crate::server::BatchItem);
    for name in [header::AUTHORIZATION, header::HOST] {
        if let Some(v) = outer.get(&name) {
            builder = builder.header(name, v);
        }
    }
    for (k, v) in item_headers.into_iter().flatten() {
        if let Some(v) = v.as_str() {
            builder = builder.header(k.as_str(), v);
        }
    }
    let Ok(request) = builder.body(axum::body::Body::from(body)) else {
        let error = GraphError::odata_bad_request("Invalid request URL or header in batch item.");
        return item_error(error);
    };
    let Ok(response) = router.clone().oneshot(request).await;
    let status = response.status().as_u16();
    let mut headers = Map::new();
    for (name, value) in response.headers() {
        let keep = matches!(
            name.as_str(),
            "retry-after" | "location" | "content-type" | "x-ms-resource-unit"
        );
        if keep && let Ok(v) = value.to_str() {
            let key = if name == header::RETRY_AFTER {
                "Retry-After".to_owned()
            } else {
                name.to_string()
            };
            headers.insert(key, json!(v));
        }
    }
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, Value::Object(headers), body)
}

#[cfg(test)]
mod tests {
    #[test]
    fn batch_item_urls_may_be_relative_or_absolute() {
        for url in [
            "/users/1?$select=id",
            "users/1?$select=id",
            "/v1.0/users/1?$select=id",
            "https://127.0.0.1:8443/v1.0/users/1?$select=id",
            "https://graph.microsoft.com/v1.0/users/1?$select=id",
        ] {
            assert_eq!(super::batch_item_path(url), "users/1?$select=id", "{url}");
        }
    }
}
