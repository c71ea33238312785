//! The JavaScript API: class `Simulator`, with TypeScript types for what it returns.
//!
//! Every failure is thrown as a JavaScript `Error` whose message is the Rust
//! message (for YAML: origin, resource, field path and what is wrong).

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::model::{PeerSpec, Sim, StepYaml};
use crate::sim_types::{ClusterSummary, NodeRoutes, NodeStatus};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** How a run ended. */
export interface RunReport { steps: number; converged: boolean; messages: number; bytes: number; }
/** A load note or linter finding. */
export interface Note { severity: "info" | "warning"; resource: string; field: string; message: string; }
/** A BGPPeer of the cluster. */
export interface BgpPeerInfo {
  name: string;
  node: string | null;
  nodeSelector: string | null;
  peerSelector: string | null;
  peerIP: string | null;
  asNumber: number | null;
  global: boolean;
}
/** One configuration of a migration: its name and its Calico resources. */
export interface MigrationStepYaml { name: string; yaml: string; }
/** The spec of a BGPPeer to add. */
export interface BgpPeerSpec {
  name: string;
  node?: string;
  nodeSelector?: string;
  peerSelector?: string;
  peerIP?: string;
  asNumber?: number;
}
"#;

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsError> {
    let s = serde_json::to_string(v).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&s).map_err(|_| JsError::new("internal error: JSON.parse failed"))
}

fn err(e: String) -> JsError {
    JsError::new(&e)
}

fn get_str(obj: &JsValue, key: &str) -> Result<Option<String>, JsError> {
    let v = js_sys::Reflect::get(obj, &JsValue::from_str(key))
        .map_err(|_| JsError::new(&format!("cannot read field {key}")))?;
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| JsError::new(&format!("BGPPeer field {key} must be a string")))
}

/// A Calico cluster and the network of Reflector engines that runs it.
#[wasm_bindgen]
pub struct Simulator {
    sim: Sim,
}

#[wasm_bindgen]
impl Simulator {
    /// Loads Calico resources from YAML (multi-document, `List`s, or a `kubectl get nodes` table).
    #[wasm_bindgen(constructor)]
    pub fn new(yaml: &str) -> Result<Simulator, JsError> {
        Ok(Simulator {
            sim: Sim::from_yaml(yaml).map_err(err)?,
        })
    }

    /// A generated cluster of `nodes` nodes, the first `reflectors` of them route reflectors, mesh off.
    pub fn generate(nodes: u32, reflectors: u32, seed: Option<u32>) -> Result<Simulator, JsError> {
        Ok(Simulator {
            sim: Sim::generate(
                nodes as usize,
                reflectors as usize,
                u64::from(seed.unwrap_or(1)),
            )
            .map_err(err)?,
        })
    }

    /// The YAML of a generated cluster.
    #[wasm_bindgen(js_name = generateYaml)]
    pub fn generate_yaml(
        nodes: u32,
        reflectors: u32,
        seed: Option<u32>,
    ) -> Result<String, JsError> {
        Sim::generate_yaml(
            nodes as usize,
            reflectors as usize,
            u64::from(seed.unwrap_or(1)),
        )
        .map_err(err)
    }

    /// The cluster written back as Calico YAML.
    #[wasm_bindgen(js_name = toYaml)]
    pub fn to_yaml(&self) -> String {
        self.sim.to_yaml()
    }

    /// Replaces the cluster with resources from YAML.
    #[wasm_bindgen(js_name = loadYaml)]
    pub fn load_yaml(&mut self, yaml: &str) -> Result<(), JsError> {
        self.sim.load_yaml(yaml).map_err(err)
    }

    /// Turns the node-to-node mesh on or off.
    #[wasm_bindgen(js_name = setMesh)]
    pub fn set_mesh(&mut self, on: bool) {
        self.sim.set_mesh(on);
    }

    /// Whether the node-to-node mesh is on.
    #[wasm_bindgen(getter, js_name = meshEnabled)]
    pub fn mesh_enabled(&self) -> bool {
        self.sim.mesh_enabled()
    }

    /// Makes a node a route reflector with this cluster ID; `null`/`undefined` unmarks it.
    #[wasm_bindgen(js_name = setReflector)]
    pub fn set_reflector(&mut self, node: &str, cluster_id: Option<String>) -> Result<(), JsError> {
        self.sim
            .set_reflector(node, cluster_id.as_deref())
            .map_err(err)
    }

    /// Sets a reflector's cluster ID.
    #[wasm_bindgen(js_name = setClusterId)]
    pub fn set_cluster_id(&mut self, node: &str, cluster_id: &str) -> Result<(), JsError> {
        self.sim.set_cluster_id(node, cluster_id).map_err(err)
    }

    /// Adds a node (IPv4 address with prefix length, or the next free one).
    #[wasm_bindgen(js_name = addNode)]
    pub fn add_node(&mut self, name: &str, ipv4: Option<String>) -> Result<(), JsError> {
        self.sim.add_node(name, ipv4.as_deref()).map_err(err)
    }

    /// Removes a node.
    #[wasm_bindgen(js_name = removeNode)]
    pub fn remove_node(&mut self, name: &str) -> Result<(), JsError> {
        self.sim.remove_node(name).map_err(err)
    }

    /// Adds a BGPPeer from its spec fields.
    #[wasm_bindgen(js_name = addBgpPeer)]
    pub fn add_bgp_peer(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "BgpPeerSpec")] spec: JsValue,
    ) -> Result<(), JsError> {
        let name =
            get_str(&spec, "name")?.ok_or_else(|| JsError::new("BGPPeer spec needs a name"))?;
        let as_number = {
            let v = js_sys::Reflect::get(&spec, &JsValue::from_str("asNumber"))
                .map_err(|_| JsError::new("cannot read field asNumber"))?;
            if v.is_undefined() || v.is_null() {
                None
            } else {
                let n = v
                    .as_f64()
                    .ok_or_else(|| JsError::new("BGPPeer field asNumber must be a number"))?;
                if !(1.0..=4_294_967_295.0).contains(&n) || n.fract() != 0.0 {
                    return Err(JsError::new(&format!(
                        "BGPPeer field asNumber must be an AS number from 1 to 4294967295, found {n}"
                    )));
                }
                Some(n as u32)
            }
        };
        let p = PeerSpec {
            name,
            node: get_str(&spec, "node")?,
            node_selector: get_str(&spec, "nodeSelector")?,
            peer_selector: get_str(&spec, "peerSelector")?,
            peer_ip: get_str(&spec, "peerIP")?,
            as_number,
        };
        self.sim.add_bgp_peer(&p).map_err(err)
    }

    /// The cluster's BGPPeers.
    #[wasm_bindgen(js_name = bgpPeers, unchecked_return_type = "BgpPeerInfo[]")]
    pub fn bgp_peers(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim.bgp_peers())
    }

    /// Removes a BGPPeer by name.
    #[wasm_bindgen(js_name = removeBgpPeer)]
    pub fn remove_bgp_peer(&mut self, name: &str) -> Result<(), JsError> {
        self.sim.remove_bgp_peer(name).map_err(err)
    }

    /// Load notes and linter findings.
    #[wasm_bindgen(unchecked_return_type = "Note[]")]
    pub fn notes(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim.notes())
    }

    /// The session graph (nodes, sessions, per-session traffic after a run).
    #[wasm_bindgen(unchecked_return_type = "Graph")]
    pub fn graph(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim.graph())
    }

    /// Session counts against the full mesh, and traffic after a run.
    #[wasm_bindgen(unchecked_return_type = "ClusterSummary")]
    pub fn summary(&self) -> Result<JsValue, JsError> {
        to_js(&ClusterSummary::from(self.sim.summary()))
    }

    /// The summary as text.
    #[wasm_bindgen(js_name = summaryText)]
    pub fn summary_text(&self) -> String {
        self.sim.summary_text()
    }

    /// Keeps at most `limit` messages in the log (0 turns it off); clears it.
    #[wasm_bindgen(js_name = setMessageLogLimit)]
    pub fn set_message_log_limit(&mut self, limit: u32) {
        self.sim.set_message_log_limit(limit as usize);
    }

    /// Drops the network: the next step starts with sessions just up.
    pub fn reset(&mut self) {
        self.sim.reset();
    }

    /// One synchronous round; returns the number of messages delivered.
    pub fn step(&mut self) -> Result<f64, JsError> {
        self.sim.step().map(|n| n as f64).map_err(err)
    }

    /// Steps until nothing moves, or `maxSteps` (default 10000) steps moved messages.
    #[wasm_bindgen(unchecked_return_type = "RunReport")]
    pub fn run(&mut self, max_steps: Option<u32>) -> Result<JsValue, JsError> {
        let r = self
            .sim
            .run(u64::from(max_steps.unwrap_or(10_000)))
            .map_err(err)?;
        to_js(&r)
    }

    /// The `k`-th prefix the demo announces: a /26 inside an exported IPv4 pool.
    #[wasm_bindgen(js_name = demoPrefix)]
    pub fn demo_prefix(&mut self, k: u32) -> Result<String, JsError> {
        self.sim.demo_prefix(k).map_err(err)
    }

    /// Originates a prefix from a node (run or step to see it travel).
    pub fn announce(&mut self, node: &str, prefix: &str) -> Result<(), JsError> {
        self.sim.announce(node, prefix).map_err(err)
    }

    /// Withdraws a prefix the node originates; false when it did not.
    pub fn withdraw(&mut self, node: &str, prefix: &str) -> Result<bool, JsError> {
        self.sim.withdraw(node, prefix).map_err(err)
    }

    /// A node's best routes with their attributes.
    #[wasm_bindgen(unchecked_return_type = "NodeRoutes")]
    pub fn routes(&mut self, node: &str) -> Result<JsValue, JsError> {
        let r = self.sim.routes(node).map_err(err)?;
        to_js(&NodeRoutes::from(r))
    }

    /// A node's routes as a text table.
    #[wasm_bindgen(js_name = routesText)]
    pub fn routes_text(&mut self, node: &str) -> Result<String, JsError> {
        self.sim.routes_text(node).map_err(err)
    }

    /// `calicoctl node status` of a node, as data.
    #[wasm_bindgen(js_name = nodeStatus, unchecked_return_type = "NodeStatus")]
    pub fn node_status(&mut self, node: &str) -> Result<JsValue, JsError> {
        let s = self.sim.node_status(node).map_err(err)?;
        to_js(&NodeStatus::from(s))
    }

    /// `calicoctl node status` of a node, as calicoctl prints it.
    #[wasm_bindgen(js_name = nodeStatusText)]
    pub fn node_status_text(&mut self, node: &str) -> Result<String, JsError> {
        self.sim.node_status_text(node).map_err(err)
    }

    /// Messages `start .. start + count` of the log, UPDATEs decoded.
    #[wasm_bindgen(unchecked_return_type = "MessagePage")]
    pub fn messages(&mut self, start: Option<u32>, count: Option<u32>) -> Result<JsValue, JsError> {
        let p = self
            .sim
            .messages(
                start.unwrap_or(0) as usize,
                count.map_or(usize::MAX, |c| c as usize),
            )
            .map_err(err)?;
        to_js(&p)
    }

    /// Fails a node in the converged network and converges again: what each node kept and lost.
    #[wasm_bindgen(js_name = failNode, unchecked_return_type = "WhatIfReport")]
    pub fn fail_node(&mut self, node: &str) -> Result<JsValue, JsError> {
        to_js(&self.sim.fail_node(node).map_err(err)?)
    }

    /// Brings a failed node back and converges again: what each node kept, lost and got back.
    #[wasm_bindgen(js_name = restoreNode, unchecked_return_type = "WhatIfReport")]
    pub fn restore_node(&mut self, node: &str) -> Result<JsValue, JsError> {
        to_js(&self.sim.restore_node(node).map_err(err)?)
    }

    /// Takes down the sessions between two nodes and converges again.
    #[wasm_bindgen(js_name = failSession, unchecked_return_type = "WhatIfReport")]
    pub fn fail_session(&mut self, a: &str, b: &str) -> Result<JsValue, JsError> {
        to_js(&self.sim.fail_session(a, b).map_err(err)?)
    }

    /// Brings the sessions between two nodes back up and converges again.
    #[wasm_bindgen(js_name = restoreSession, unchecked_return_type = "WhatIfReport")]
    pub fn restore_session(&mut self, a: &str, b: &str) -> Result<JsValue, JsError> {
        to_js(&self.sim.restore_session(a, b).map_err(err)?)
    }

    /// Starts a migration through configurations (`{ name, yaml }` in order): the cluster becomes the first.
    #[wasm_bindgen(js_name = startMigration, unchecked_return_type = "MigrationState")]
    pub fn start_migration(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "MigrationStepYaml[]")] steps: JsValue,
    ) -> Result<JsValue, JsError> {
        let steps: Vec<StepYaml> = serde_wasm_bindgen::from_value(steps)
            .map_err(|e| JsError::new(&format!("migration steps: {e}")))?;
        to_js(&self.sim.start_migration(&steps).map_err(err)?)
    }

    /// Where the migration stands, or `null` when none is in progress.
    #[wasm_bindgen(js_name = migrationState, unchecked_return_type = "MigrationState | null")]
    pub fn migration_state(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim.migration_state())
    }

    /// Applies the next configuration of the migration (as `reflector simulate --steps`) and reports the move.
    #[wasm_bindgen(js_name = migrationNext, unchecked_return_type = "MigrationTransition")]
    pub fn migration_next(&mut self) -> Result<JsValue, JsError> {
        to_js(&self.sim.migration_next().map_err(err)?)
    }

    /// Empties the message log.
    #[wasm_bindgen(js_name = clearMessages)]
    pub fn clear_messages(&mut self) -> Result<(), JsError> {
        self.sim.clear_messages().map_err(err)
    }
}
