package sparkdl.onnx

import java.nio.{ByteBuffer, ByteOrder, DoubleBuffer, FloatBuffer, IntBuffer, LongBuffer}

import scala.jdk.CollectionConverters._
import scala.util.Using

import ai.onnxruntime.{
  NodeInfo, OnnxJavaType, OnnxTensor, OrtEnvironment, OrtException, OrtSession,
  TensorInfo => OrtTensorInfo
}

import sparkdl.inference.{
  Devices, Feed, ModelException, ModelSession, Placement, RunControl, TensorInfo, Threads
}

/**
 * One ONNX model loaded into one ONNX Runtime session: on the CUDA device of the GPU Spark assigned
 * to this executor when the build has ONNX Runtime's CUDA provider ([[Devices]]), else on the CPU.
 * Thread-safe: ONNX Runtime allows concurrent `run` calls on a session, so every task of a JVM
 * shares one. Threads as for TensorFlow ([[sparkdl.inference.Threads]]): one intra-op thread per
 * task by default. Obtain instances through [[sparkdl.inference.SessionCache]].
 */
final class OnnxSession private[onnx] (val model: OnnxModel) extends ModelSession {

  private val env = OrtEnvironment.getEnvironment()
  private val session: OrtSession =
    try Using.resource(new OrtSession.SessionOptions()) { options =>
        options.setIntraOpNumThreads(Threads.intraOp)
        options.setInterOpNumThreads(1)
        val placement = Devices.placement()
        placement.onnxCudaDevice(OnnxSession.providers) match {
          case Some(device) =>
            // the CUDA provider of the GPU build needs CUDA
            // and cuDNN on the host: without them, the CPU
            try options.addCUDA(device)
            catch {
              case e: OrtException =>
                OnnxSession.cudaFailure.compareAndSet(null, e.getMessage)
                OnnxSession.warnNoCuda(placement, s"CUDA failed: ${e.getMessage}")
            }
          case None if placement.gpu.nonEmpty =>
            OnnxSession.warnNoCuda(
              placement,
              s"no CUDA provider in this build (${OnnxSession.providers.mkString(", ")})")
          case None =>
        }
        env.createSession(model.bytes, options)
      }
    catch {
      case e: Exception =>
        throw new ModelException(s"Could not load $model into ONNX Runtime: ${e.getMessage}", e)
    }

  @volatile private var closed = false

  def isClosed: Boolean = closed

  private lazy val inputInfos: Map[String, NodeInfo] = session.getInputInfo.asScala.toMap
  private lazy val outputInfos: Map[String, NodeInfo] = session.getOutputInfo.asScala.toMap

  private def info(node: NodeInfo): TensorInfo = node.getInfo match {
    case t: OrtTensorInfo =>
      TensorInfo(node.getName, OnnxSession.dtype(t.`type`), Some(t.getShape.toSeq))
    case other => TensorInfo(node.getName, other.toString, None)
  }

  private def list(infos: Map[String, NodeInfo]): String =
    infos.values.map(info).toSeq.sortBy(_.name).mkString(", ")

  def inputInfo(name: String): TensorInfo = inputInfos.get(name).map(info).getOrElse(
    throw new ModelException(
      s"Input '$name' is not an input of the ONNX model. Its inputs are: ${list(inputInfos)}"))

  def outputInfo(name: String): TensorInfo = outputInfos.get(name).map(info).getOrElse(
    throw new ModelException(
      s"Output '$name' is not an output of the ONNX model. Its outputs are: ${list(outputInfos)}"))

  /** Every input of the model, in its order: ONNX Runtime needs them all fed. */
  override def inputNames: Seq[String] = session.getInputNames.asScala.toSeq

  /** Every output of the model, in its order. */
  override def outputNames: Seq[String] = session.getOutputNames.asScala.toSeq

  def run(feeds: Seq[Feed], outputs: Seq[String]): Seq[(Array[Long], Array[Float])] =
    run(feeds, outputs, new RunControl)

  /** Stoppable: `control` sets ONNX Runtime's terminate flag on this run's options. */
  override def run(feeds: Seq[Feed], outputs: Seq[String], control: RunControl)
      : Seq[(Array[Long], Array[Float])] = {
    if (closed) throw new IllegalStateException(s"Session for $model is closed")
    Feed.checkSizes(feeds)
    val tensors = scala.collection.mutable.LinkedHashMap.empty[String, OnnxTensor]
    try {
      feeds.zipWithIndex.foreach { case (f, slot) =>
        tensors(f.tensor) = tensor(f, inputInfo(f.tensor).dtype, slot)
      }
      val options = new OrtSession.RunOptions()
      control.onStop(() => options.setTerminate(true))
      val result = try session.run(tensors.asJava, outputs.toSet.asJava, options)
      catch {
        case e: Exception =>
          throw new ModelException(Feed.runFailure("ONNX Runtime", model, feeds, outputs, e), e)
      } finally options.close()
      Using.resource(result) { r =>
        outputs.map { name =>
          r.get(name).orElseThrow() match {
            case t: OnnxTensor if t.getInfo.`type` == OnnxJavaType.FLOAT =>
              val buffer = t.getFloatBuffer
              val out = new Array[Float](buffer.remaining())
              buffer.get(out)
              (t.getInfo.getShape, out)
            case t => throw new ModelException(
                s"Output '$name' of $model is ${t.getInfo}, only float32 outputs are supported")
          }
        }
      }
    } finally tensors.values.foreach(_.close())
  }

  /**
   * The feed as the input's declared type: the same type, or an exact widening (int32 to int64,
   * float to double). `slot`: the feed's place in its run (floats go through the calling thread's
   * direct buffer of that slot: [[OnnxSession.direct]]).
   */
  private def tensor(f: Feed, want: String, slot: Int): OnnxTensor = (f.values, want) match {
    case (v: Array[Float], "float") =>
      OnnxTensor.createTensor(env, OnnxSession.direct(v, slot), f.shape)
    case (v: Array[Double], "double") => OnnxTensor.createTensor(env, DoubleBuffer.wrap(v), f.shape)
    case (v: Array[Int], "int32") => OnnxTensor.createTensor(env, IntBuffer.wrap(v), f.shape)
    case (v: Array[Long], "int64") => OnnxTensor.createTensor(env, LongBuffer.wrap(v), f.shape)
    case (v: Array[Int], "int64") =>
      OnnxTensor.createTensor(env, LongBuffer.wrap(v.map(_.toLong)), f.shape)
    case (v: Array[Float], "double") =>
      OnnxTensor.createTensor(env, DoubleBuffer.wrap(v.map(_.toDouble)), f.shape)
    case _ =>
      throw new ModelException(s"Input '${f.tensor}' of $model takes $want, but is fed ${f.dtype}")
  }

  override def close(): Unit = synchronized {
    if (!closed) {
      closed = true
      session.close()
    }
  }
}

object OnnxSession {

  /** The largest direct buffer a thread keeps per feed slot (bigger feeds are copied per run). */
  private val MaxKeptBytes = 64L << 20

  private val directBuffers = ThreadLocal.withInitial[Array[ByteBuffer]](() => Array.empty)

  /**
   * `v` copied into a direct buffer of the calling thread, one per feed `slot` of a run, kept from
   * run to run: ONNX Runtime reads a direct buffer in place, but copies a heap array into a new
   * direct buffer for every tensor (allocated, zeroed and paged in each time: for a batch of four
   * 224x224 images, 2.4 MB per run). The tensor made on it is closed before the thread runs again.
   */
  private[onnx] def direct(v: Array[Float], slot: Int): FloatBuffer = {
    val bytes = v.length.toLong * 4
    if (bytes > MaxKeptBytes) return FloatBuffer.wrap(v)
    var slots = directBuffers.get
    if (slots.length <= slot) {
      slots = java.util.Arrays.copyOf(slots, slot + 1)
      directBuffers.set(slots)
    }
    if (slots(slot) == null || slots(slot).capacity < bytes) {
      slots(slot) = ByteBuffer.allocateDirect(bytes.toInt).order(ByteOrder.nativeOrder())
    }
    val floats = slots(slot).clear().asFloatBuffer()
    floats.put(v).flip()
    floats
  }

  /** ONNX Runtime's execution providers in this build (CUDA only in the GPU build). */
  lazy val providers: Set[String] =
    scala.util.Try(
      ai.onnxruntime.OrtEnvironment.getAvailableProviders.asScala.map(_.name).toSet[String])
      .getOrElse(Set.empty[String])

  /**
   * Why ONNX Runtime's CUDA provider failed to start in this JVM (no CUDA on the host...), if it
   * did.
   */
  val cudaFailure = new java.util.concurrent.atomic.AtomicReference[String]()

  /**
   * This JVM's placement as JSON, with ONNX Runtime's providers (the `sparkdl_device()` SQL
   * function).
   */
  def describePlacement(): String = Devices.placement().describe(providers, Option(cudaFailure.get))

  private val warned = new java.util.concurrent.atomic.AtomicBoolean()

  private def warnNoCuda(placement: Placement, why: String): Unit =
    if (warned.compareAndSet(false, true)) {
      org.slf4j.LoggerFactory.getLogger(getClass).warn(
        s"sparkdl: ONNX models run on the CPU, not GPU ${placement.gpu.getOrElse("0")}: $why. " +
          "The GPU build (make jar-gpu) needs CUDA 12 and cuDNN 9 on the host.")
    }

  /** sparkdl's dtype names (as TensorFlow's: float, double, int32, int64, ...). */
  def dtype(t: OnnxJavaType): String = t match {
    case OnnxJavaType.FLOAT => "float"
    case OnnxJavaType.DOUBLE => "double"
    case OnnxJavaType.INT32 => "int32"
    case OnnxJavaType.INT64 => "int64"
    case OnnxJavaType.INT8 => "int8"
    case OnnxJavaType.UINT8 => "uint8"
    case OnnxJavaType.INT16 => "int16"
    case OnnxJavaType.BOOL => "bool"
    case OnnxJavaType.STRING => "string"
    case other => other.toString.toLowerCase
  }
}
