//! Hand-over of Arrow batches between Rust and JS buffer by buffer, without an IPC stream.
//!
//! Out (reads), zero-copy:
//! An Arrow IPC stream copies every buffer of a batch into one contiguous body. Instead, each Arrow
//! buffer is handed to V8 as an external ArrayBuffer that keeps the arrow-rs `Buffer` alive until JS
//! collects it, and the layout travels beside it in the order the IPC format uses (pre-order field
//! nodes and buffers), so `lib/handover.js` can rebuild the batch with apache-arrow's `makeData`.
//! Hand-written because neither arrow-rs nor apache-arrow JS has an in-process C Data Interface
//! bridge for Node; a batch this module does not cover (its schema differs from the stream's, a type
//! laid out differently in JS, sliced buffers) falls back to IPC.
//!
//! In (writes): `lib/handover.js` sends the same layout for apache-arrow batches (dictionary columns
//! too: the keys, then the dictionary's values as a child array); each buffer is
//! copied once into arrow-rs memory and the arrays are validated like the IPC reader validates them
//! (instead of `tableToIPC` in JS plus an IPC decode here).

use deltalake::arrow::array::{Array, ArrayData, RecordBatch, make_array};
use deltalake::arrow::buffer::Buffer as ArrowBuffer;
use deltalake::arrow::datatypes::{DataType, SchemaRef};
use deltalake::arrow::error::ArrowError;
use napi::bindgen_prelude::{Buffer, Uint8Array};

use crate::error::{Code, ZError, ZResult};
use crate::ipc;

/// One batch for JS: either its buffers (`nodes` + `buffers`) or, as a fallback, an IPC stream.
#[napi(object)]
pub struct JsBatch {
    /// Rows in the batch.
    pub length: i64,
    /// `(length, nullCount)` of every array node, depth first (IPC's FieldNode order), flattened.
    pub nodes: Vec<i64>,
    /// Every buffer, depth first in IPC order; `null` for an absent validity bitmap.
    pub buffers: Vec<Option<Uint8Array>>,
    /// Set instead of nodes/buffers when the batch is sent as an IPC stream.
    pub ipc: Option<Buffer>,
    /// How many data buffers follow the views buffer of each view array (`Utf8View`,
    /// `BinaryView`), in node order.
    pub variadic: Option<Vec<i64>>,
}

fn external(buffer: &ArrowBuffer) -> Uint8Array {
    if buffer.is_empty() {
        return Uint8Array::new(Vec::new());
    }
    let keep = buffer.clone();
    let ptr = buffer.as_ptr() as *mut u8;
    // SAFETY: the memory belongs to `keep`, an immutable reference-counted arrow buffer that the
    // finalizer owns, so it stays valid until V8 releases the ArrayBuffer.
    unsafe { Uint8Array::with_external_data(ptr, buffer.len(), move |_, _| drop(keep)) }
}

/// Appends `data`'s nodes and buffers; `false` when it cannot be handed over as is.
fn export(
    data: &ArrayData,
    nodes: &mut Vec<i64>,
    buffers: &mut Vec<Option<Uint8Array>>,
    variadic: &mut Vec<i64>,
) -> bool {
    if data.offset() != 0 {
        return false;
    }
    nodes.push(data.len() as i64);
    nodes.push(data.null_count() as i64);
    let dt = data.data_type();
    if matches!(dt, DataType::Null) {
        return true;
    }
    match data.nulls() {
        Some(nulls) if nulls.null_count() > 0 => {
            if nulls.offset() != 0 {
                return false;
            }
            buffers.push(Some(external(nulls.buffer())));
        }
        _ => buffers.push(None),
    }
    use DataType::*;
    match dt {
        Boolean
        | Int8
        | Int16
        | Int32
        | Int64
        | UInt8
        | UInt16
        | UInt32
        | UInt64
        | Float16
        | Float32
        | Float64
        | Date32
        | Date64
        | Time32(_)
        | Time64(_)
        | Timestamp(_, _)
        | Duration(_)
        | Decimal128(_, _)
        | Decimal256(_, _)
        | FixedSizeBinary(_) => {
            buffers.push(Some(external(&data.buffers()[0])));
            true
        }
        Utf8 | Binary | LargeUtf8 | LargeBinary => {
            buffers.push(Some(external(&data.buffers()[0])));
            buffers.push(Some(external(&data.buffers()[1])));
            true
        }
        Utf8View | BinaryView => {
            // The views, then the buffers they point into (a read's decoded pages, shared).
            buffers.extend(data.buffers().iter().map(|b| Some(external(b))));
            variadic.push(data.buffers().len() as i64 - 1);
            true
        }
        List(_) | Map(_, _) => {
            buffers.push(Some(external(&data.buffers()[0])));
            export(&data.child_data()[0], nodes, buffers, variadic)
        }
        FixedSizeList(_, _) | Struct(_) => data
            .child_data()
            .iter()
            .all(|child| export(child, nodes, buffers, variadic)),
        _ => false,
    }
}

/// `batch` for JS, whose stream schema is `schema` (from [`ipc::js_schema`]).
pub fn to_js(batch: RecordBatch, schema: &SchemaRef) -> Result<JsBatch, ArrowError> {
    let length = batch.num_rows() as i64;
    if batch.schema().as_ref() == schema.as_ref() {
        let (mut nodes, mut buffers, mut variadic) = (Vec::new(), Vec::new(), Vec::new());
        if batch
            .columns()
            .iter()
            .all(|c| export(&c.to_data(), &mut nodes, &mut buffers, &mut variadic))
        {
            return Ok(JsBatch {
                length,
                nodes,
                buffers,
                ipc: None,
                variadic: (!variadic.is_empty()).then_some(variadic),
            });
        }
    }
    let ipc = ipc::encode(&batch.schema(), &[batch])?;
    Ok(JsBatch {
        length,
        nodes: Vec::new(),
        buffers: Vec::new(),
        ipc: Some(ipc.into()),
        variadic: None,
    })
}

fn bad(msg: impl std::fmt::Display) -> ZError {
    ZError::new(Code::InvalidData, format!("malformed Arrow batch: {msg}"))
}

/// Cursor over one JsBatch's nodes and buffers while arrays are rebuilt from them.
struct Parts<'a> {
    nodes: std::slice::Iter<'a, i64>,
    buffers: std::vec::IntoIter<Option<Uint8Array>>,
    /// Share the JS memory instead of copying it (see [`from_js`]).
    hold: bool,
}

/// A JS buffer that arrow-rs memory points into: the reference keeps its ArrayBuffer alive until
/// the last arrow buffer over it is dropped (napi-rs releases the reference on the JS thread when
/// that happens on another one).
struct Held(#[allow(dead_code)] Uint8Array);

// SAFETY: the typed array is only dropped, never read through, once held; napi-rs defers the
// release of its reference to the JS thread.
unsafe impl Send for Held {}
unsafe impl Sync for Held {}
impl std::panic::RefUnwindSafe for Held {}

impl Parts<'_> {
    fn node(&mut self) -> ZResult<usize> {
        let (len, _nulls) = (self.nodes.next(), self.nodes.next());
        len.and_then(|l| usize::try_from(*l).ok())
            .ok_or_else(|| bad("missing or negative node length"))
    }

    fn buffer(&mut self) -> ZResult<Option<ArrowBuffer>> {
        let next = self
            .buffers
            .next()
            .ok_or_else(|| bad("fewer buffers than the schema needs"))?;
        Ok(next.map(|b| {
            let ptr = std::ptr::NonNull::new(b.as_ptr() as *mut u8).filter(|_| !b.is_empty());
            match (self.hold, ptr) {
                // SAFETY: `b.len()` bytes at `ptr` are the JS buffer's, kept alive by `Held` for as
                // long as arrow holds them; the caller does not change them meanwhile (`from_js`).
                (true, Some(ptr)) => unsafe {
                    let len = b.len();
                    ArrowBuffer::from_custom_allocation(ptr, len, std::sync::Arc::new(Held(b)))
                },
                _ => ArrowBuffer::from_slice_ref(b.as_ref()),
            }
        }))
    }

    fn required(&mut self) -> ZResult<ArrowBuffer> {
        self.buffer()?
            .ok_or_else(|| bad("a required buffer is missing"))
    }

    fn array(&mut self, dt: &DataType) -> ZResult<ArrayData> {
        use DataType::*;
        let len = self.node()?;
        if matches!(dt, Null) {
            return Ok(ArrayData::new_null(dt, len));
        }
        let mut builder = ArrayData::builder(dt.clone())
            .len(len)
            .null_bit_buffer(self.buffer()?);
        builder = match dt {
            Boolean
            | Int8
            | Int16
            | Int32
            | Int64
            | UInt8
            | UInt16
            | UInt32
            | UInt64
            | Float16
            | Float32
            | Float64
            | Date32
            | Date64
            | Time32(_)
            | Time64(_)
            | Timestamp(_, _)
            | Duration(_)
            | Decimal128(_, _)
            | Decimal256(_, _)
            | FixedSizeBinary(_) => builder.add_buffer(self.required()?),
            Utf8 | Binary | LargeUtf8 | LargeBinary => builder
                .add_buffer(self.required()?)
                .add_buffer(self.required()?),
            List(f) | Map(f, _) => builder
                .add_buffer(self.required()?)
                .add_child_data(self.array(f.data_type())?),
            FixedSizeList(f, _) => builder.add_child_data(self.array(f.data_type())?),
            // The keys, then the dictionary's values as the child (apache-arrow's `tableFromArrays`
            // makes JS strings Dictionary<Int32, Utf8>; these went as a JS-encoded IPC stream).
            Dictionary(key, values) if key.is_dictionary_key_type() => builder
                .add_buffer(self.required()?)
                .add_child_data(self.array(values)?),
            Struct(fields) => {
                let children = fields
                    .iter()
                    .map(|f| self.array(f.data_type()))
                    .collect::<ZResult<Vec<_>>>()?;
                builder.child_data(children)
            }
            other => return Err(bad(format!("type {other} cannot be sent buffer by buffer"))),
        };
        // Full validation (offsets, UTF-8, buffer sizes), as the IPC reader does for untrusted input;
        // a held buffer not aligned for its type is copied into aligned memory.
        builder.align_buffers(self.hold).build().map_err(bad)
    }
}

/// Batches of `schema` rebuilt from what `lib/handover.js` sent: each buffer copied, or with
/// `hold` shared with JS. Holding is for data the caller leaves untouched until the write has
/// committed (`writeDelta` of an in-memory table, whose promise covers the commit); a `write()`
/// that resolves before its rows are encoded copies them, since JS may reuse the buffers. Sharing
/// saves the copy and the second copy of the table in memory (release, `writeDelta` of 1 M rows x
/// 10 columns, 87 MB, alternating: 0.221-0.244 -> 0.207-0.211 s into 8 partitions, peak RSS
/// 350-353 -> 276 MB; unpartitioned 315 -> 235 MB).
pub fn from_js(schema: &SchemaRef, batches: Vec<JsBatch>, hold: bool) -> ZResult<Vec<RecordBatch>> {
    batches
        .into_iter()
        .map(|b| {
            let mut parts = Parts {
                nodes: b.nodes.iter(),
                buffers: b.buffers.into_iter(),
                hold,
            };
            let columns = schema
                .fields()
                .iter()
                .map(|f| parts.array(f.data_type()).map(make_array))
                .collect::<ZResult<Vec<_>>>()?;
            if parts.nodes.next().is_some() || parts.buffers.next().is_some() {
                return Err(bad("more nodes or buffers than the schema has"));
            }
            let length = usize::try_from(b.length).map_err(bad)?;
            let options =
                deltalake::arrow::array::RecordBatchOptions::new().with_row_count(Some(length));
            RecordBatch::try_new_with_options(schema.clone(), columns, &options).map_err(bad)
        })
        .collect()
}
