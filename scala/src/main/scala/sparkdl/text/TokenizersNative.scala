package sparkdl.text

import java.nio.file.{Files, Path, Paths, StandardCopyOption}
import java.util.Locale

import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary

/**
 * Hugging Face's `tokenizers` library (Rust), through DJL's JNI binding, loaded once per JVM.
 *
 * DJL's own loader copies the native into a cache under the user's home and, when it sees a GPU,
 * downloads a CUDA build; neither works on an offline executor. Here the native is taken from the
 * classpath (the jar carries it; the assembly keeps linux-x86_64's), copied to a fresh temporary
 * folder, loaded and deleted (a loaded library needs no file), so nothing is left behind and
 * nothing is fetched. `RUST_LIBRARY_PATH` (environment or system property: the library file, or its
 * folder) loads another build instead, as DJL does.
 */
private[sparkdl] object TokenizersNative {

  private val LibName = System.mapLibraryName("tokenizers")

  /** The binding; the first call loads the native, or throws saying why it could not. */
  def library: TokenizersLibrary = loaded.fold(e => throw e, identity)

  private lazy val loaded: Either[Throwable, TokenizersLibrary] =
    try {
      load()
      Right(TokenizersLibrary.LIB)
    } catch {
      case e: Exception =>
        Left(new IllegalStateException(
            s"Cannot load Hugging Face tokenizers' native library: ${e.getMessage}", e))
      case e: UnsatisfiedLinkError =>
        Left(new IllegalStateException(
            s"Cannot load Hugging Face tokenizers' native library: ${e.getMessage}", e))
    }

  /**
   * DJL's name for this JVM's platform: `linux-x86_64`, `linux-aarch64`, `osx-aarch64`,
   * `win-x86_64`.
   */
  def platform: String = {
    val os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT)
    val arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT) match {
      case "amd64" | "x86_64" => "x86_64"
      case other => other
    }
    val prefix = if (os.startsWith("mac")) "osx" else if (os.startsWith("win")) "win" else "linux"
    s"$prefix-$arch"
  }

  private def load(): Unit = {
    val overridden = Option(System.getenv("RUST_LIBRARY_PATH")).orElse(
      Option(System.getProperty("RUST_LIBRARY_PATH")))
    overridden match {
      case Some(p) =>
        val path = Paths.get(p)
        val file = if (Files.isDirectory(path)) path.resolve(LibName) else path
        if (!Files.isRegularFile(file))
          throw new IllegalArgumentException(s"RUST_LIBRARY_PATH=$p holds no $LibName")
        loadHere(file)
      case None =>
        val resource = s"native/lib/$platform/cpu/$LibName"
        val in = Option(getClass.getClassLoader.getResourceAsStream(resource)).getOrElse(
          throw new IllegalStateException(
            s"the classpath has no $resource: sparkdl's jar carries the linux-x86_64 " +
              s"build; on $platform, set RUST_LIBRARY_PATH to a $LibName built for " +
              "it (DJL's ai.djl.huggingface:tokenizers jar holds them)"))
        val dir = Files.createTempDirectory("sparkdl-tokenizers")
        val file = dir.resolve(LibName)
        try {
          try Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING)
          finally in.close()
          loadHere(file)
        } finally {
          Files.deleteIfExists(file)
          Files.deleteIfExists(dir)
        }
    }
  }

  /**
   * Loaded from this class, whose class loader is the binding's (both come from sparkdl's jar or
   * its dependencies).
   */
  private def loadHere(file: Path): Unit = System.load(file.toAbsolutePath.toString)
}
