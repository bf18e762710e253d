package io.sparkformers;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** Dependencies point one way: only the spark layer knows Spark; lower layers never reach up. */
@AnalyzeClasses(packages = "io.sparkformers", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {

    @ArchTest
    static final ArchRule onlyTheSparkLayerImportsSpark = noClasses()
            .that()
            .resideOutsideOfPackage("io.sparkformers.spark..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("org.apache.spark..");

    @ArchTest
    static final ArchRule checkpointFormatsKnowNoModels = noClasses()
            .that()
            .resideInAnyPackage("io.sparkformers.safetensors..", "io.sparkformers.hub..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "io.sparkformers.nn..",
                    "io.sparkformers.pipeline..",
                    "io.sparkformers.train..",
                    "io.sparkformers.convert..",
                    "io.sparkformers.spark..",
                    "io.sparkformers.distributed..");

    @ArchTest
    static final ArchRule modelsKnowNoPipelinesOrTraining = noClasses()
            .that()
            .resideInAPackage("io.sparkformers.nn..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "io.sparkformers.generation..",
                    "io.sparkformers.pipeline..",
                    "io.sparkformers.train..",
                    "io.sparkformers.spark..",
                    "io.sparkformers.distributed..");

    /** Generation sits above the models and below the pipelines: it knows models, not tasks, training or Spark. */
    @ArchTest
    static final ArchRule generationKnowsNoPipelinesOrTraining = noClasses()
            .that()
            .resideInAPackage("io.sparkformers.generation..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "io.sparkformers.pipeline..",
                    "io.sparkformers.train..",
                    "io.sparkformers.spark..",
                    "io.sparkformers.distributed..");

    /**
     * Applications live beside the library (the jobs module: CLI, demo, benchmarks, recipes, YAML configs), as
     * transformers keeps examples/ and benchmark/ out of src/: no demo, benchmark or recipe class in lib, and no lib
     * class reaches for the command line (picocli) or the YAML job configs.
     */
    @ArchTest
    static final ArchRule applicationsLiveBesideTheLibrary = noClasses()
            .should()
            .haveSimpleNameEndingWith("Demo")
            .orShould()
            .haveSimpleNameEndingWith("Benchmark")
            .orShould()
            .haveSimpleNameEndingWith("Recipes")
            .orShould()
            .dependOnClassesThat()
            .resideInAnyPackage("picocli..", "com.fasterxml.jackson.dataformat.yaml..");
}
