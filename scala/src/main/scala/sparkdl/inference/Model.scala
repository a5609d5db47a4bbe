package sparkdl.inference

/**
 * A model as the executors receive it: immutable, serializable bytes that an engine turns into a
 * [[ModelSession]]. Identified in every JVM by `hash`, so [[SessionCache]] loads each model once
 * per JVM whatever object carries it.
 */
trait Model extends Serializable {

  /** Identifies the model's content in every JVM (e.g. the SHA-256 of its bytes). */
  def hash: String

  /** Size of the serialized model: what the session cache budgets by. */
  def sizeInBytes: Long

  /**
   * The engines that can run the model, one per form ([[Engines]]: `tf`, `onnx`); several for an
   * [[EngineChoice]], whose batches [[ModelSession.runOn]] sends to one of them.
   */
  def engines: Seq[String]

  /** The inputs a caller feeds and the outputs it fetches unless told otherwise. */
  def inputs: Seq[String]
  def outputs: Seq[String]

  /** Loads the model into a new session of its engine. Called by [[SessionCache]] only. */
  private[sparkdl] def open(): ModelSession

  /** Describes the input `name`, or fails naming it and listing the model's inputs. */
  def inputInfo(name: String): TensorInfo = SessionCache.withSession(this)(_.inputInfo(name))

  /**
   * Describes the output `name` (with its static shape), or fails naming it and listing candidates.
   */
  def outputInfo(name: String): TensorInfo = SessionCache.withSession(this)(_.outputInfo(name))

  /** Fails, naming it and listing candidates, unless `name` is an output of the model. */
  def checkOutput(name: String): Unit = outputInfo(name)

  /**
   * Fails when the model uses what the active session does not allow (ops outside TensorFlow's
   * allow-list, ONNX operator domains outside the standard ones): called on the driver for every
   * query, so the session's own conf decides, whatever an earlier query allowed.
   */
  def checkAllowed(): Unit = ()

  /**
   * The inputs computing `outputs` reads (all must be fed), where the engine can tell without
   * running.
   */
  def inputsNeeded(outputs: Seq[String]): Option[Seq[String]] = None

  /** Whether two names denote one tensor (TensorFlow: `x` is `x:0`). */
  def sameTensor(a: String, b: String): Boolean = a == b

  /**
   * Checks on the driver, before any job, what would otherwise fail in every task: feeding `fed`
   * and fetching `fetched` must feed every input the outputs read, and each output must be float32
   * with the batch as its first dimension. The messages are those a task would give.
   */
  def checkRun(fed: Seq[String], fetched: Seq[String]): Unit = {
    inputsNeeded(fetched).getOrElse(Nil).filterNot(n =>
      fed.exists(sameTensor(_, n))).headOption.foreach { n =>
      val in = inputInfo(n)
      throw new ModelException(
        s"You must feed a value for input '${in.name}' (${in.dtype} " +
          s"${in.shapeString}): the outputs ${fetched.mkString("[", ", ", "]")} " +
          s"read it, but only ${fed.mkString("[", ", ", "]")} are fed. A model " +
          "given to this stage must take exactly the inputs the stage feeds.")
    }
    lazy val batchFirst = fed.forall(f => inputInfo(f).shape.forall(_.headOption.forall(_ < 0)))
    fetched.foreach { name =>
      val out = outputInfo(name)
      if (out.dtype != "float") {
        throw new ModelException(
          s"Output '$name' is ${out.dtype}, only float32 outputs are supported")
      }
      if (out.shape.exists(s => s.isEmpty || (s.head >= 0 && batchFirst))) {
        throw new ModelException(
          s"Output '$name' has shape ${out.shapeString}; its first dimension must be the batch " +
            "(unknown, as the inputs' first dimension)")
      }
    }
  }
}
